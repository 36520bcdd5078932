"""python -m bench: run overhead, batch throughput and worker memory of the product against httpx and LiteLLM.

Creates its own PostgreSQL database (dropped at the end unless --keep-db) and uses its own Redis database
number; prints a table and saves everything as JSON under bench/results/.
"""

import argparse
import base64
import hashlib
import json
import os
import sys
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=100, help="provider latency of the batch phases")
    parser.add_argument("--concurrency", type=int, default=100, help="runs in flight in the batch phases (all systems)")
    parser.add_argument("--batch-sizes", default="1000,5000", help="comma-separated numbers of runs")
    parser.add_argument("--overhead-runs", type=int, default=200, help="sequential runs for the overhead figures")
    parser.add_argument("--overhead-latency-ms", type=float, default=100)
    parser.add_argument("--rss-in-flight", type=int, default=200, help="runs in flight in the memory phase")
    parser.add_argument("--rss-latency-ms", type=float, default=5000)
    parser.add_argument("--rss-runs", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=1, help="repeat every phase to see the spread")
    parser.add_argument("--systems", default="httpx,litellm,product")
    parser.add_argument("--phases", default="overhead,batch,memory", help="a subset, to iterate on one figure")
    parser.add_argument("--profile", action="store_true", help="py-spy the worker in the overhead and largest batch")
    parser.add_argument("--worker-processes", type=int, default=1, help="Celery workers sharing the concurrency")
    parser.add_argument("--trace", action="store_true", help="time each stage of a run inside the worker")
    parser.add_argument("--experiment", default="", help="a change tried in the worker only (see bench/experiments.py)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_integrations"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def configure_environment(args) -> None:
    """Production-like settings for this process and the worker it starts (DEBUG off, its own keys)."""
    secret = "bench-only-" + hashlib.sha256(b"bench").hexdigest()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="integrations_site.settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secret,
        INTEGRATIONS_ENCRYPTION_KEY=base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).decode(),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        # Production settings block private networks; the benchmark's provider is on loopback.
        RUNNERS_ALLOWED_NETWORKS=os.environ.get("RUNNERS_ALLOWED_NETWORKS", "127.0.0.0/8"),
    )


def _admin_connection(database_url: str):
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(database_url)
    connection = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )  # fmt: skip
    return connection, db["NAME"]


def create_database(database_url: str) -> None:
    if not database_url.startswith("postgres"):
        return
    connection, name = _admin_connection(database_url)
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    if not database_url.startswith("postgres"):
        return
    from django.db import connections

    connections.close_all()
    connection, name = _admin_connection(database_url)
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# `python -m bench NAME ...`: a scenario of its own (its module's main), e.g. `python -m bench evaluations`.
SCENARIOS = {"evaluations": "bench.evaluations"}


def main(argv=None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    if argv and argv[0] in SCENARIOS:
        import importlib

        return importlib.import_module(SCENARIOS[argv[0]]).main(argv[1:])
    args = parse_args(argv)
    configure_environment(args)
    create_database(args.database_url)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        import redis

        # The benchmark's own Redis database: messages of an interrupted earlier run must not be consumed.
        redis.Redis.from_url(args.redis_url).flushdb()
        return run(args)
    finally:
        if not args.keep_db:
            drop_database(args.database_url)


def run(args) -> int:
    from bench.report import profile_summary, save, summarise, table
    from bench.suite import Config, run_suite

    config = Config(
        latency_ms=args.latency_ms,
        concurrency=args.concurrency,
        overhead_runs=args.overhead_runs,
        overhead_latency_ms=args.overhead_latency_ms,
        batch_sizes=tuple(int(size) for size in args.batch_sizes.split(",")),
        rss_in_flight=args.rss_in_flight,
        rss_latency_ms=args.rss_latency_ms,
        rss_runs=args.rss_runs,
        repeats=args.repeats,
        systems=tuple(args.systems.split(",")),
        phases=tuple(args.phases.split(",")),
        profile=args.profile,
        trace=args.trace,
        experiment=args.experiment,
        worker_processes=args.worker_processes,
    )
    log_dir = args.results_dir / "logs"
    partial = args.results_dir / f"partial-{os.getpid()}.json"

    def save_partial(raw_so_far: dict) -> None:
        # Kept if a long run is interrupted; replaced by the full result at the end.
        args.results_dir.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(raw_so_far, default=str))

    raw = run_suite(config, log_dir=log_dir, progress=lambda line: print(line, flush=True), on_repeat=save_partial)
    summary = summarise(raw)
    if args.profile:
        summary["profiles"] = {
            path.name: profile_summary(path)
            for path in sorted(log_dir.glob("*-py-spy.txt"))
            if path.stat().st_mtime >= _start_time(raw)
        }
    print()
    print(table(raw, summary))
    path = save(raw, summary, args.results_dir)
    partial.unlink(missing_ok=True)
    print(f"\nsaved {path}")
    return 0


def _start_time(raw: dict) -> float:
    import calendar
    import time

    return calendar.timegm(time.strptime(raw["started_at"], "%Y-%m-%dT%H:%M:%SZ"))


if __name__ == "__main__":
    sys.exit(main())
