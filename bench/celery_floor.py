"""What Celery alone costs per message: a worker like the product's (threads pool, Redis, acks_late, prefetch 1,
JSON) running a task that only sleeps for the provider latency, with no Django, database or HTTP.

Its runs/s and CPU per message bound the product's from above: whatever the runners do, a run also pays this.

    python -m bench.celery_floor [--runs 1000] [--concurrency 100] [--latency-ms 100] [--redis-url redis://.../14]
"""

import argparse
import json
import os
import subprocess
import sys
import time
import uuid

from celery import Celery

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

app = Celery("bench_floor", broker=REDIS_URL)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.floor.sleep")
def sleep_task(counter_key: str, latency_s: float) -> None:
    time.sleep(latency_s)  # the provider wait, without a provider: the point is Celery's own cost
    _redis().incr(counter_key)


_client = None


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(app.conf.broker_url)
    return _client


def measure(*, runs: int, concurrency: int, latency_ms: float) -> dict:
    from bench.processes import RssSampler, stop_process, tree_cpu_seconds

    queue = f"bench-floor-{uuid.uuid4().hex[:8]}"
    counter = f"{queue}:done"
    started = time.perf_counter()
    for _ in range(runs):
        sleep_task.apply_async((counter, latency_ms / 1000), queue=queue)
    publish_seconds = time.perf_counter() - started
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench.celery_floor", "worker", "--pool", "threads",
         "--concurrency", str(concurrency), "--loglevel", "INFO", "-Q", queue, "-n", f"{queue}@%h"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, BENCH_REDIS_URL=REDIS_URL),
    )  # fmt: skip
    sampler = RssSampler(worker.pid).start()
    client = _redis()
    try:
        while not int(client.get(counter) or 0):
            time.sleep(0.005)
        first_done, cpu_start = time.perf_counter(), tree_cpu_seconds(worker.pid)
        while int(client.get(counter) or 0) < runs:
            time.sleep(0.05)
        elapsed = time.perf_counter() - first_done
        cpu = tree_cpu_seconds(worker.pid) - cpu_start
    finally:
        stop_process(worker)
        peak = sampler.stop()
        client.delete(counter, queue, f"_kombu.binding.{queue}")
    # From the first finished task: add one latency for the first wave's start.
    elapsed += latency_ms / 1000
    return {
        "runs": runs,
        "concurrency": concurrency,
        "latency_ms": latency_ms,
        "throughput": round(runs / elapsed, 1),
        "cpu_ms_per_run": round(1000 * cpu / runs, 2),
        "publish_per_s": round(runs / publish_seconds),
        "peak_rss_mb": round(peak / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.celery_floor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=100)
    args = parser.parse_args()
    print(json.dumps(measure(runs=args.runs, concurrency=args.concurrency, latency_ms=args.latency_ms)))


if __name__ == "__main__":
    main()
