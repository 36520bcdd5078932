"""python -m bench.fairness: order of work, fairness between organisations and integration limits, measured.

Same set-up as `python -m bench` (its own PostgreSQL database and Redis database, DEBUG off, the Procfile's worker
in subprocesses, the local provider of bench/provider.py), four figures, each against a baseline measured in the
same process on an idle worker:

interactive   queue wait (created -> claimed) and end to end of interactive runs (run_enqueue) sent one every
              `--probe-interval` s while a `--batch-runs` batch (an evaluation's outputs, runs_enqueue_bulk) drains;
              baseline: the same runs on the idle worker
judge lag     judge runs (runs_enqueue_bulk, class judge) created while the batch drains: created -> claimed
two orgs      organisation A's batch of `--batch-runs` is draining when B submits `--small-runs`: B's makespan
              (first created -> last finished); baseline: B alone on the idle worker
rate          an integration with requests_per_minute `--rpm`, `--rate-runs` runs, two worker processes: runs
              sent per minute (first attempts) over `--rate-seconds` against the limit, and the most sent in any
              61 s (the limiter's window, see runners.limits.WINDOW_MARGIN_MS)
Prints a table and saves the raw numbers as bench/results/fairness-<timestamp>.json.
"""

import argparse
import json
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from bench.__main__ import RESULTS_DIR, configure_environment, create_database, drop_database


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.fairness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-runs", type=int, default=5000)
    parser.add_argument("--small-runs", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--probes", type=int, default=20, help="interactive runs sent during the batch")
    parser.add_argument("--probe-interval", type=float, default=0.5)
    parser.add_argument("--judges", type=int, default=20)
    parser.add_argument("--rpm", type=int, default=600)
    parser.add_argument("--rate-seconds", type=float, default=180)
    parser.add_argument("--phases", default="interactive,orgs,rate")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_fairness")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _secs(later, earlier) -> float:
    return (later - earlier).total_seconds()


class Bench:
    def __init__(self, args, provider, log_dir: Path) -> None:
        from bench.product import Product

        self.args, self.provider = args, provider
        self.product = Product(provider=provider, log_dir=log_dir, label="fair")
        self.second_org = None

    def _org_b(self):
        from django.contrib.auth import get_user_model

        from bench.product import integration_document
        from integrations.services import integration_upsert
        from organizations.models import Membership, Organization, Role

        if self.second_org is None:
            organization = Organization.objects.create(name=f"Bench B {self.product.queue}")
            user = get_user_model().objects.create_user(username=f"{self.product.queue}-b")
            Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
            integration = integration_upsert(
                organization=organization,
                user=user,
                name="bench-b",
                document=integration_document(self.provider.api_base(self.args.latency_ms), "bench-b"),
            )
            self.second_org = (organization, user, integration.models.get())
        return self.second_org

    def _bulk(self, model, user, organization, count, work_class):
        from django.db import transaction

        from bench.product import MESSAGES, PARAMETERS
        from runners.models import Job
        from runners.services import RunSpec, job_create, runs_enqueue_bulk

        job = job_create(organization=organization, user=user, kind=Job.Kind.EVALUATION)
        specs = [RunSpec(model=model, messages=MESSAGES, parameters=dict(PARAMETERS))] * count
        with transaction.atomic():
            runs_enqueue_bulk(specs=specs, user=user, job=job, work_class=work_class)
        return job

    def _interactive(self, model, count, interval):
        job = self.product.new_job()
        for _ in range(count):
            self.product.enqueue(model=model, job=job)
            time.sleep(interval)
        return job

    def _rows(self, job, worker, count):
        self.product.wait_for_job(job, count, worker)
        return self.product.job_rows(job)

    @staticmethod
    def _waits(rows):
        return [_secs(row["started_at"], row["created_at"]) for row in rows if row["started_at"]]

    @staticmethod
    def _e2e(rows):
        return [_secs(row["finished_at"], row["created_at"]) for row in rows if row["finished_at"]]

    def interactive(self) -> dict:
        """Interactive queue wait and end to end, idle and during the batch; judges' claim lag during the batch."""
        from bench.product import routed_to
        from runners.models import WorkClass

        args, product = self.args, self.product
        model = product.model(args.latency_ms)
        with routed_to(product.queue), product.worker(concurrency=args.concurrency, phase="interactive") as worker:
            warm = self._interactive(model, 5, 0.05)
            self._rows(warm, worker, 5)
            idle = self._interactive(model, args.probes, args.probe_interval)
            idle_rows = self._rows(idle, worker, args.probes)
            batch = self._bulk(model, product.user, product.organization, args.batch_runs, WorkClass.BATCH)
            time.sleep(2)  # the batch fills every slot
            judges = self._bulk(model, product.user, product.organization, args.judges, WorkClass.JUDGE)
            busy = self._interactive(model, args.probes, args.probe_interval)
            busy_rows = self._rows(busy, worker, args.probes)
            judge_rows = self._rows(judges, worker, args.judges)
            batch_rows = self._rows(batch, worker, args.batch_runs)
        batch_done = [row for row in batch_rows if row["finished_at"]]
        during = (
            min(row["started_at"] for row in batch_done),
            max(row["finished_at"] for row in batch_done),
        )
        return {
            "idle_wait_ms": [w * 1000 for w in self._waits(idle_rows)],
            "idle_e2e_ms": [w * 1000 for w in self._e2e(idle_rows)],
            "busy_wait_ms": [w * 1000 for w in self._waits(busy_rows)],
            "busy_e2e_ms": [w * 1000 for w in self._e2e(busy_rows)],
            "judge_lag_ms": [w * 1000 for w in self._waits(judge_rows)],
            "probes_inside_batch": sum(during[0] <= row["created_at"] <= during[1] for row in busy_rows),
            "batch_succeeded": sum(row["status"] == "succeeded" for row in batch_rows),
            "batch_seconds": _secs(during[1], during[0]),
        }

    def orgs(self) -> dict:
        """Organisation B's small batch, alone and while A's large one drains."""
        from bench.product import routed_to
        from runners.models import WorkClass

        args, product = self.args, self.product
        model = product.model(args.latency_ms)
        organization, user, model_b = self._org_b()
        with routed_to(product.queue), product.worker(concurrency=args.concurrency, phase="orgs") as worker:
            warm = self._bulk(model_b, user, organization, 5, WorkClass.BATCH)
            self._rows(warm, worker, 5)
            alone = self._bulk(model_b, user, organization, args.small_runs, WorkClass.BATCH)
            alone_rows = self._rows(alone, worker, args.small_runs)
            big = self._bulk(model, product.user, product.organization, args.batch_runs, WorkClass.BATCH)
            time.sleep(2)
            small = self._bulk(model_b, user, organization, args.small_runs, WorkClass.BATCH)
            small_rows = self._rows(small, worker, args.small_runs)
            big_rows = self._rows(big, worker, args.batch_runs)

        def makespan(rows):
            return _secs(max(row["finished_at"] for row in rows), min(row["created_at"] for row in rows))

        small_end = max(row["finished_at"] for row in small_rows)
        return {
            "alone_s": makespan(alone_rows),
            "beside_s": makespan(small_rows),
            "big_s": makespan(big_rows),
            "big_unfinished_when_small_done": sum(
                1 for row in big_rows if row["finished_at"] is None or row["finished_at"] > small_end
            ),
            "succeeded": sum(row["status"] == "succeeded" for row in [*small_rows, *big_rows]),
        }

    def rate(self) -> dict:
        """requests_per_minute achieved across two worker processes, and the most started in any 61 s."""
        from django.db.models import Min
        from django.utils import timezone

        from bench.product import Worker, integration_document, routed_to
        from integrations.services import integration_upsert
        from runners.models import Run, WorkClass

        args, product = self.args, self.product
        document = integration_document(self.provider.api_base(args.latency_ms), "bench-rpm")
        document["requests_per_minute"] = args.rpm
        integration = integration_upsert(
            organization=product.organization, user=product.user, name="bench-rpm", document=document
        )
        model = integration.models.get()
        count = int(args.rpm * (args.rate_seconds / 60 + 1))

        def measured(job) -> bool:
            # The period (from the first run started) is over and what started in it has finished.
            first = Run.objects.filter(job=job).aggregate(first=Min("started_at"))["first"]
            return (
                first is not None
                and (timezone.now() - first).total_seconds() > args.rate_seconds
                and not Run.objects.filter(job=job, status="running").exists()
            )

        worker = Worker(
            concurrency=args.concurrency,
            queue=product.queue,
            env=product.worker_env(),
            log_path=product.log_dir / f"{product.queue}-rate-worker.log",
            processes=2,
        )
        with routed_to(product.queue), worker:
            job = self._bulk(model, product.user, product.organization, count, WorkClass.BATCH)
            began = time.monotonic()
            while time.monotonic() < began + args.rate_seconds + 30:
                worker.check_alive()
                if measured(job):
                    break
                time.sleep(1)
            # When each request went out (its first attempt, after the run took its place), not the claim: a
            # claimed run may still be deferred.
            logs = Run.objects.filter(job=job, status="succeeded").values_list("attempt_log", flat=True)
            started = sorted(datetime.fromisoformat(log[0]["started_at"]) for log in logs if log)
            Run.objects.filter(job=job, status="queued").update(status="failed", error_type="cancelled")
        if not started:
            return {
                "achieved": 0.0,
                "started_in_period": 0,
                "most_in_any_60_s": 0,
                "most_in_any_61_s": 0,
                "rpm": args.rpm,
            }
        end = started[0].timestamp() + args.rate_seconds
        in_window = [s for s in started if s.timestamp() < end]
        stamps = [s.timestamp() for s in started]

        def most_within(seconds: float) -> int:
            most, j = 0, 0
            for i, stamp in enumerate(stamps):
                while stamps[j] <= stamp - seconds:
                    j += 1
                most = max(most, i - j + 1)
            return most

        return {
            "most_in_any_60_s": most_within(60),
            "started_in_period": len(in_window),
            "limit_in_period": args.rpm * args.rate_seconds / 60,
            "achieved": len(in_window) / (args.rpm * args.rate_seconds / 60),
            "most_in_any_61_s": most_within(61),
            "rpm": args.rpm,
        }


def summarise(repeats: list[dict]) -> list[tuple[str, str, str, str]]:
    """(figure, baseline, measured, ratio or target) rows, medians over repeats."""

    def med(phase, key, fn):
        values = [fn(r[phase][key]) for r in repeats if phase in r and r[phase].get(key) is not None]
        return statistics.median(values) if values else None

    rows = []
    if any("interactive" in r for r in repeats):
        idle_wait = med("interactive", "idle_wait_ms", lambda v: _p(v, 0.95))
        busy_wait = med("interactive", "busy_wait_ms", lambda v: _p(v, 0.95))
        idle_e2e = med("interactive", "idle_e2e_ms", lambda v: _p(v, 0.5))
        busy_e2e = med("interactive", "busy_e2e_ms", lambda v: _p(v, 0.5))
        judge = med("interactive", "judge_lag_ms", lambda v: _p(v, 0.95))
        rows += [
            ("interactive queue wait p95", f"{idle_wait:.0f} ms", f"{busy_wait:.0f} ms", "target <= 100 ms"),
            (
                "interactive end to end p50",
                f"{idle_e2e:.0f} ms",
                f"{busy_e2e:.0f} ms",
                f"+{busy_e2e - idle_e2e:.0f} ms",
            ),
            ("judge created -> claimed p95", "", f"{judge:.0f} ms", "target <= 5,000 ms"),
        ]
    if any("orgs" in r for r in repeats):
        alone, beside = med("orgs", "alone_s", float), med("orgs", "beside_s", float)
        left = med("orgs", "big_unfinished_when_small_done", float)
        rows += [
            ("org B's small batch, makespan", f"{alone:.1f} s", f"{beside:.1f} s", f"{beside / alone:.1f}x"),
            ("org A's runs left when B finished", "", f"{left:.0f}", ""),
        ]
    if any("rate" in r for r in repeats):
        achieved = med("rate", "achieved", float)
        most = med("rate", "most_in_any_60_s", float)
        most_61 = med("rate", "most_in_any_61_s", float)
        rpm = repeats[0]["rate"]["rpm"]
        rows += [
            ("requests_per_minute achieved", f"{rpm}/min", f"{achieved:.1%}", "target >= 90%"),
            ("most sent in any 60 s", f"{rpm}", f"{most:.0f}", "<= limit" if most <= rpm else "OVER"),
            ("most sent in any 61 s", f"{rpm}", f"{most_61:.0f}", "the limiter's own window"),
        ]
    return rows


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    configure_environment(args)
    create_database(args.database_url)
    try:
        import django

        django.setup()
        import redis
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        redis.Redis.from_url(args.redis_url).flushdb()
        return run(args)
    finally:
        drop_database(args.database_url)


def run(args) -> int:
    from bench.processes import Provider

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir = args.results_dir / f"fairness-{stamp}-logs"
    phases = args.phases.split(",")
    repeats = []
    with Provider() as provider:
        for repeat in range(args.repeats):
            bench, result = Bench(args, provider, log_dir), {}
            for phase in phases:
                started = time.monotonic()
                result[phase] = getattr(bench, phase)()
                print(f"repeat {repeat + 1} {phase}: {time.monotonic() - started:.0f} s", flush=True)
            repeats.append(result)
    rows = summarise(repeats)
    width = max(len(row[0]) for row in rows)
    print(f"{'figure':<{width}}  baseline (idle)  measured  ratio / target")
    for figure, baseline, measured, note in rows:
        print(f"{figure:<{width}}  {baseline:>15}  {measured:>8}  {note}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"fairness-{stamp}.json"
    path.write_text(json.dumps({"args": vars(args) | {"results_dir": str(args.results_dir)}, "repeats": repeats,
                                "rows": rows}, default=str, indent=1))  # fmt: skip
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
