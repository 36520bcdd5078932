"""Changes to the runners tried out in the benchmark's worker before anyone edits runners/ (`--experiment NAME`).

Imported by the worker with `celery worker -I bench.experiments` when BENCH_EXPERIMENT is set; each
experiment patches one thing at import time. Measure with and without, then propose the change.

- `sharded-clients:K`: the shared loop uses K httpx.AsyncClients in turn instead of one. httpcore 1.0.9's
  pool walks all of its connections on every request and response (`_assign_requests_to_connections`,
  quadratic in the idle ones, plus a getpeername and a poll syscall per idle connection in `has_expired`),
  so with 100-200 connections the loop thread spends milliseconds per request on bookkeeping. K pools of
  N/K connections cut that by about K (linear part) to K squared (quadratic part).
- `no-metrics`: runs record no metrics (one pipelined Redis round trip per run less).
"""

import itertools
import os

EXPERIMENT = os.environ.get("BENCH_EXPERIMENT", "")


def sharded_clients(shards: int) -> None:
    import asyncio

    import httpx

    from core.network_policy import policy_transport
    from runners import event_loop, transport

    turn = itertools.count()

    def http_client() -> httpx.AsyncClient:
        current = event_loop._current
        if current is None or asyncio.get_running_loop() is not current.loop:
            raise RuntimeError("http_client() is for coroutines submitted with runners.event_loop.submit()")
        clients = current.__dict__.setdefault("bench_clients", [])
        if not clients:
            limits = event_loop.CLIENT_LIMITS
            clients.extend(
                httpx.AsyncClient(transport=policy_transport(limits=limits), follow_redirects=False)
                for _ in range(shards)
            )
            current.client = clients[0]  # closed at shutdown like the one client
        return clients[next(turn) % shards]

    transport.http_client = http_client
    print(f"bench.experiments: {shards} sharded httpx clients installed", flush=True)


def no_metrics() -> None:
    """Runs record no metrics (core/metrics_store.py): what the one Redis round trip per run costs."""
    from runners import execution

    execution.observe_run_outcome = lambda **kwargs: None
    print("bench.experiments: run metrics off", flush=True)


if EXPERIMENT.startswith("sharded-clients:"):
    sharded_clients(int(EXPERIMENT.split(":", 1)[1]))
elif EXPERIMENT == "no-metrics":
    no_metrics()
elif EXPERIMENT:
    raise SystemExit(f"unknown BENCH_EXPERIMENT {EXPERIMENT!r}")
