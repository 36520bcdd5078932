"""One asyncio event loop per worker process, in a background thread, shared by every task thread.

Celery's threads pool runs each task on its own thread. Tasks hand their I/O to
this loop with `submit()` and wait for the result, so hundreds of provider calls
share one loop and one httpx.AsyncClient (connection pooling, no event loop per
task that would strand the client's connections).
"""

import asyncio
import itertools
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import Future

import httpx
from django.conf import settings

from core.egress import egress_client
from runners.tls import TLSClients, TLSConfig

# Sized for hundreds of runs in flight per worker process.
CLIENT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=200, keepalive_expiry=30)
# httpcore 1.0.9's pool walks all of its connections, quadratically in the idle ones, on every request and every
# response (AsyncConnectionPool._assign_requests_to_connections): one pool of 200 connections keeps the loop thread
# at 100% CPU on bookkeeping. Requests go to CLIENT_SHARDS clients in turn, each a pool of a few tens of connections
# (python -m bench, 200 in flight: 9 -> 28 runs/s; 100 in flight at 100 ms: CPU per run -36%).
CLIENT_SHARDS = 10


class _LoopThread:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.clients: list[httpx.AsyncClient] = []
        self.tls_clients = TLSClients(retire_after=float(settings.RUNNERS_MAX_RUN_SECONDS))
        self.turn = itertools.count()
        self.thread = threading.Thread(target=self._run, name="runners-event-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()


_current: _LoopThread | None = None
_lock = threading.Lock()


def _loop_thread() -> _LoopThread:
    global _current
    with _lock:
        # A forked child (prefork pool) must not reuse its parent's loop thread, which does not exist there.
        if _current is None or _current.pid != os.getpid() or not _current.thread.is_alive():
            _current = _LoopThread()
        return _current


def submit(coroutine: Coroutine) -> Future:
    """Run `coroutine` on the shared loop; the returned future is waited on from the calling thread."""
    return asyncio.run_coroutine_threadsafe(coroutine, _loop_thread().loop)


def http_client(tls: TLSConfig | None = None) -> httpx.AsyncClient:
    """The process's shared client, or the client for an integration's own `tls` settings (runners.tls). Only
    coroutines running on the shared loop may call this."""
    current = _current
    if current is None or asyncio.get_running_loop() is not current.loop:
        raise RuntimeError("http_client() is for coroutines submitted with runners.event_loop.submit()")
    if tls is not None:
        return current.tls_clients.get(tls)
    if not current.clients:
        # Every connection goes through the SSRF policy (core.network_policy), or the operator's proxy (core.egress);
        # redirects are reported, not followed.
        current.clients = [egress_client(limits=CLIENT_LIMITS) for _ in range(CLIENT_SHARDS)]
    return current.clients[next(current.turn) % CLIENT_SHARDS]


def shutdown(timeout: float = 5) -> None:
    """Close the shared client and stop the loop (worker shutdown)."""
    global _current
    with _lock:
        current, _current = _current, None
    if current is None or current.pid != os.getpid():
        return

    async def close_client() -> None:
        for client in current.clients:
            await client.aclose()
        await current.tls_clients.aclose()

    try:
        asyncio.run_coroutine_threadsafe(close_client(), current.loop).result(timeout)
    finally:
        current.loop.call_soon_threadsafe(current.loop.stop)
        current.thread.join(timeout)
