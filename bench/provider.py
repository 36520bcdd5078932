"""A fast OpenAI-compatible provider for the benchmark: a raw asyncio HTTP/1.1 server with a configurable latency.

The latency is part of the URL, so one server serves every phase: an integration whose endpoint is
`http://127.0.0.1:PORT/latency/100` is answered 100 ms after its request arrives
(`POST /latency/100/chat/completions`). `GET /stats` answers the number of requests served and the highest
number in flight at once since the last `POST /stats/reset`.

A Protocol with `call_later` rather than a framework: no coroutine per request, so one core answers several
thousand requests a second (`python -m bench.provider --self-test` measures it), far above what the clients
under test can send.

    python -m bench.provider [--port 0]          # prints "listening on PORT", serves until killed
    python -m bench.provider --self-test         # the server alone, under a minimal raw-socket client
"""

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time

LATENCY_PATH = re.compile(rb"^/latency/(\d+(?:\.\d+)?)/chat/completions$")
MAX_HEADER_BYTES = 64 * 1024

COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 0,
    "model": "",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hello from the bench."}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14},
}


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def as_json(self) -> bytes:
        return json.dumps(
            {"requests": self.requests, "in_flight": self.in_flight, "max_in_flight": self.max_in_flight}
        ).encode()


def _response(status: str, body: bytes, *, keep_alive: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body


def _completion_body(request_body: bytes) -> bytes:
    completion = dict(COMPLETION, created=int(time.time()))
    with contextlib.suppress(ValueError, AttributeError):
        completion["model"] = json.loads(request_body).get("model", "")
    return json.dumps(completion).encode()


class ProviderProtocol(asyncio.Protocol):
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        # Requests on one connection are answered in order (a client may pipeline, though none here does).
        self.pending = 0
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.stats.in_flight -= self.pending
        self.pending = 0

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    self.transport.close()
                return
            head = self.buffer[:end].split(b"\r\n")
            length = 0
            keep_alive = True
            for line in head[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    keep_alive = False
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.handle(head[0], body, keep_alive)

    def handle(self, request_line: bytes, body: bytes, keep_alive: bool) -> None:
        method, _, rest = request_line.partition(b" ")
        path = rest.partition(b" ")[0].split(b"?")[0]
        match = LATENCY_PATH.match(path)
        if method == b"POST" and match:
            self.stats.requests += 1
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            self.pending += 1
            self.loop.call_later(float(match.group(1)) / 1000, self.answer, _completion_body(body), keep_alive)
        elif path == b"/stats":
            if method == b"POST":
                self.stats.reset()
            self.write(_response("200 OK", self.stats.as_json(), keep_alive=keep_alive), keep_alive)
        else:
            self.write(_response("404 Not Found", b'{"error": {"message": "not found"}}', keep_alive=False), False)

    def answer(self, body: bytes, keep_alive: bool) -> None:
        if self.closed:
            return
        self.pending -= 1
        self.stats.in_flight -= 1
        self.write(_response("200 OK", body, keep_alive=keep_alive), keep_alive)

    def write(self, data: bytes, keep_alive: bool) -> None:
        if self.closed:
            return
        self.transport.write(data)
        if not keep_alive:
            self.transport.close()


async def start_server(host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    stats = Stats()
    server = await asyncio.get_running_loop().create_server(
        lambda: ProviderProtocol(stats), host, port, backlog=4096, reuse_address=True
    )
    server.stats = stats
    return server


async def serve(host: str, port: int) -> None:
    server = await start_server(host, port)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


class _SelfTestClient(asyncio.Protocol):
    """One keep-alive connection sending the next request as soon as the previous answer is complete."""

    def __init__(self, request: bytes, deadline: float, done: asyncio.Future) -> None:
        self.request, self.deadline, self.done = request, deadline, done
        self.buffer = b""
        self.count = 0

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        length = int(re.search(rb"content-length: (\d+)", self.buffer[:end]).group(1))
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length :]
        self.count += 1
        if time.perf_counter() < self.deadline:
            self.transport.write(self.request)
        else:
            self.transport.close()
            self.done.set_result(self.count)


async def _self_test_client(port: int, connections: int, seconds: float, latency_ms: float) -> float:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "Say hello"}]}).encode()
    request = (
        f"POST /latency/{latency_ms:g}/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    futures = []
    for _ in range(connections):
        done = loop.create_future()
        await loop.create_connection(lambda d=done: _SelfTestClient(request, started + seconds, d), "127.0.0.1", port)
        futures.append(done)
    counts = await asyncio.gather(*futures)
    return sum(counts) / (time.perf_counter() - started)


def self_test(connections: int, seconds: float, latency_ms: float) -> dict:
    """The server in its own process, loaded by a raw-socket client in this one."""
    import subprocess

    server = subprocess.Popen([sys.executable, "-m", "bench.provider"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().split()[-1])
        rate = asyncio.run(_self_test_client(port, connections, seconds, latency_ms))
    finally:
        server.terminate()
        server.wait()
    return {"connections": connections, "latency_ms": latency_ms, "requests_per_second": round(rate)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.provider", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--self-test", action="store_true", help="measure the server alone and exit")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--latency-ms", type=float, default=0)
    args = parser.parse_args(argv)
    if args.self_test:
        print(json.dumps(self_test(args.connections, args.seconds, args.latency_ms)))
        return
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
