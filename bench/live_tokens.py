"""python -m bench.live_tokens: how long a streamed chunk takes from the provider to the Playground's page.

Starts the product as deployed (gunicorn with integrations_site/gunicorn.conf.py, a Celery worker), a provider that
streams numbered tokens ("t000", "t001", ...) at irregular intervals and notes when it wrote each, and headless
Chromium logged in on the Playground. A MutationObserver in the page notes when each token's text appears in the
answer. The latency of a token is (appeared in the page) - (written by the provider), both on this machine's clock.
Each of --runs runs gives a p50 and a p95; the figures reported are the medians of those (issue 19's target: p50 at
most 150 ms, p95 at most 300 ms).

    python -m bench.live_tokens [--runs 3] [--tokens 60] [--redis-url redis://127.0.0.1:6379/13 | --no-redis]

--no-redis measures the quickstart's fallback (filesystem broker, file cache). Results are printed and saved as JSON
under bench/results/.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.processes import stop_process

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-live-tokens-password"
# Records, in the page, when each token's text first appears in the first column's answer.
OBSERVER = """() => {
  window.__seen = {};
  const note = () => {
    const output = document.querySelector("[data-output]");
    if (!output) return;
    const now = performance.timeOrigin + performance.now();
    for (const match of output.textContent.matchAll(/t(\\d{3})/g)) {
      if (!(match[1] in window.__seen)) window.__seen[match[1]] = now;
    }
  };
  new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamingProvider:
    """An OpenAI-compatible provider (Starlette on uvicorn, in a thread) streaming `tokens` numbered tokens, each
    after a pause drawn from `gaps` seconds; `written[i]` is the time.time() token i was handed to the server."""

    def __init__(self, *, tokens: int, gaps: tuple[float, float], seed: int = 19) -> None:
        from starlette.applications import Starlette
        from starlette.responses import StreamingResponse
        from starlette.routing import Route

        self.tokens, self.gaps, self.random = tokens, gaps, random.Random(seed)
        self.written: list[float] = []
        self.port = free_port()

        async def completions(request):
            self.written = []
            pauses = [self.random.uniform(*self.gaps) for _ in range(self.tokens)]

            async def events():
                base = {"id": "chatcmpl-live", "object": "chat.completion.chunk", "model": "live"}
                yield f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {'role': 'assistant'}}]})}\n\n"
                for number, pause in enumerate(pauses):
                    await asyncio.sleep(pause)
                    delta = {"content": f" t{number:03d}"}
                    self.written.append(time.time())
                    yield f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': delta}]})}\n\n"
                finish = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                yield f"data: {json.dumps(finish)}\n\ndata: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        import uvicorn

        app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "StreamingProvider":
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.should_exit = True
        self.thread.join(5)


def product_environment(args, workdir: Path, web_port: int) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="integrations_site.settings",
        DATABASE_URL=args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        REDIS_URL="" if args.no_redis else args.redis_url,
        INTEGRATIONS_VAR_DIR=str(workdir / "var"),
        # DEBUG for plain-HTTP session cookies and static files without collectstatic; nothing else it changes is
        # on the measured path.
        DJANGO_DEBUG="true",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LOG_LEVEL="WARNING",
        RUNNERS_ALLOWED_NETWORKS="127.0.0.0/8",
        WEB_PORT=str(web_port),
        RUNNERS_QUEUE=f"bench-live-{os.getpid()}",
    )
    return env


def manage(env: dict, *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments], env=env, cwd=BASE_DIR, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {arguments[0]} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_once(page, provider: StreamingProvider, number: int) -> dict:
    page.goto("/playground")
    page.evaluate(OBSERVER)
    page.get_by_label("User message").fill(f"Live tokens, run {number}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator("[data-result] [data-status]").first.filter(has_text="ok").wait_for(timeout=120_000)
    seen = page.evaluate("window.__seen")
    written = provider.written
    latencies = [seen[f"{i:03d}"] - written[i] * 1000 for i in range(len(written)) if f"{i:03d}" in seen]
    if len(latencies) != len(written):
        raise RuntimeError(f"run {number}: {len(written) - len(latencies)} tokens never appeared in the page")
    return {
        "tokens": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "latencies_ms": [round(value, 1) for value in latencies],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_tokens", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=60, help="tokens the provider streams per run")
    parser.add_argument("--min-gap-ms", type=float, default=20)
    parser.add_argument("--max-gap-ms", type=float, default=120)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--no-redis", action="store_true", help="the quickstart's fallback: no Redis")
    parser.add_argument("--database-url", default="", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    web_port = free_port()
    gaps = (args.min_gap_ms / 1000, args.max_gap_ms / 1000)
    provider = StreamingProvider(tokens=args.tokens, gaps=gaps)
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp, provider:
        workdir = Path(tmp)
        env = product_environment(args, workdir, web_port)
        manage(env, "migrate", "--noinput")
        key = manage(env, "create_user", "bench", "--organization", "Bench", "--role", "admin", "--password", PASSWORD,
                     "--api-key").strip().splitlines()[-1]  # fmt: skip
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "integrations_site/gunicorn.conf.py", "integrations_site.wsgi"],
            env=env, cwd=BASE_DIR, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "integrations_site", "worker", "--loglevel", "WARNING"],
            env=env, cwd=BASE_DIR, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{web_port}"
            wait_for_http(f"{base}/accounts/login/")
            document = {
                "authentication_type": "api_key",
                "api_key_header": "Authorization",
                "api_key_value": "Bearer sk-bench",
                "endpoint": f"http://127.0.0.1:{provider.port}/v1",
                "model_properties": [{"name": "live", "alias": "Live"}],
            }
            response = httpx.put(f"{base}/api/v2/integrations/custom/live", json=document,
                                 headers={"Galileo-API-Key": key}, timeout=30)  # fmt: skip
            response.raise_for_status()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                page = browser.new_context(base_url=base).new_page()
                page.goto("/accounts/login/")
                page.get_by_label("Username").fill("bench")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url("**/settings/integrations")
                measure_once(page, provider, 0)  # warm-up: imports, connections, the worker's first task
                runs = [measure_once(page, provider, number) for number in range(1, args.runs + 1)]
                browser.close()
        finally:
            stop_process(web, grace=10)
            stop_process(worker, grace=10)
    result = {
        "mechanism": "worker publishes every 50 ms; the page reads /playground/runs/{id}/live every 100 ms",
        "broker_and_cache": "file (no Redis)" if args.no_redis else "Redis",
        "tokens_per_run": args.tokens,
        "gap_ms": [args.min_gap_ms, args.max_gap_ms],
        "p50_ms_median": statistics.median(run["p50_ms"] for run in runs),
        "p95_ms_median": statistics.median(run["p95_ms"] for run in runs),
        "runs": runs,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"live_tokens-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"live tokens ({result['broker_and_cache']}), {args.runs} runs of {args.tokens} tokens:")
    for number, run in enumerate(runs, 1):
        print(f"  run {number}: p50 {run['p50_ms']:.0f} ms  p95 {run['p95_ms']:.0f} ms  max {run['max_ms']:.0f} ms")
    print(f"  median: p50 {result['p50_ms_median']:.0f} ms  p95 {result['p95_ms_median']:.0f} ms   ({path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
