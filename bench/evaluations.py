"""python -m bench evaluations: reads that stay fast as data grows, and creating a large evaluation.

Every figure is a ratio against a baseline measured in the same process and database, or an absolute p95 against
the product's target; nothing here is a timed test. On PostgreSQL (its own database, dropped at the end unless
--keep-db), with ANALYZE after each bulk load (autovacuum may be off).

- The process is set up as a web worker (core.heap.heap_freeze after the application is loaded) and the pages are
  read in it with Django's test client: the p95 includes the full garbage collections a web worker pays.
- Progress (`GET /evaluations/<id>/progress`, JSON) and the results page (`GET /evaluations/<id>`, HTML, page 2)
  of a 2,000-run evaluation (500 rows x 4 models) and of a 20,000-run one (5,000 rows x 4 models), one metric:
  p95 over --requests requests, while half of the outputs have finished ("running") and after all have ("done").
  The evaluations' state is written as the workers leave it: the runs' outcomes by UPDATE, then counted by
  evaluations.services.counters.outputs_count, the function the run_finished receiver calls; scores by
  bulk_create. Target: 20,000-run p95 <= 1.5x the 2,000-run p95, and under 200 ms.
- Creating a 20,000-run evaluation: `POST /api/v2/evaluations` until it answers 202 (the runs are made by
  create_evaluation_runs afterwards; that step is timed too, for information). Target < 1 s.
- Run filters (`GET /api/v2/runs?model=`, `?integration=`, `?status=`) and the Playground history
  (playground_history, and the page) with 100,000 runs in the table. Target p95 < 50 ms.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_RATIO = 1.5
TARGET_READ_MS = 200.0
TARGET_CREATE_S = 1.0
TARGET_FILTER_MS = 50.0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench evaluations", description=__doc__.split("\n\n")[0])
    # The same shape (4 models, so a page shows as many cells), a tenth of the rows: only the data grows.
    parser.add_argument("--small", default="500x4", help="rows x models of the baseline evaluation")
    parser.add_argument("--large", default="5000x4", help="rows x models of the large evaluation")
    parser.add_argument("--runs-table", type=int, default=100_000, help="runs in the table for the filter figures")
    parser.add_argument("--requests", type=int, default=40, help="requests per p95")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_evaluations"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def p95(samples_ms: list[float]) -> float:
    ordered = sorted(samples_ms)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(call, count: int) -> list[float]:
    call()  # warm: the first request compiles templates and fills caches
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class World:
    """An organisation, a member with a session and an API key, an integration of four models, a metric."""

    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.test import Client
        from rest_framework.test import APIClient

        from evaluations.services.metrics import metric_create
        from integrations.services import integration_upsert
        from organizations.models import Membership, Organization, Role
        from organizations.services import api_key_issue

        self.org = Organization.objects.create(name="Bench evaluations")
        self.user = get_user_model().objects.create_user(username=f"bench-{uuid.uuid4().hex[:6]}", password="x")
        Membership.objects.create(user=self.user, organization=self.org, role=Role.ADMIN)
        self.models = [f"model-{i}" for i in range(4)]
        self.integration = integration_upsert(
            organization=self.org,
            user=self.user,
            name="bench",
            document={
                "authentication_type": "api_key",
                "api_key_header": "x-api-key",
                "api_key_value": "sk-bench-not-a-secret",
                "endpoint": "http://127.0.0.1:9/v1",
                "model_properties": [
                    {"name": alias, "alias": alias, "supported_parameters": ["temperature"]} for alias in self.models
                ],
            },
        )
        self.metric = metric_create(
            organization=self.org,
            user=self.user,
            name="Correct",
            judge_model=self.models[0],
            judges=1,
            prompt="Q: {{input}} A: {{output}} Score it.",
        )
        # Production settings (DEBUG off): a host they allow, over HTTPS as behind the proxy.
        https = {"HTTP_HOST": "localhost", "HTTP_X_FORWARDED_PROTO": "https"}
        self.page = Client(**https)
        self.page.force_login(self.user)
        self.api = APIClient(**https)
        self.api.credentials(HTTP_GALILEO_API_KEY=api_key_issue(user=self.user).raw_key)

    def dataset(self, rows: int):
        from evaluations.services.datasets import dataset_create

        text = "question,expected\n" + "".join(f"What is {n} plus {n}?,{2 * n}\n" for n in range(rows))
        return dataset_create(organization=self.org, user=self.user, name=f"{rows} rows", text=text, format="csv")


def evaluation_made(world: World, rows: int, models: int, *, metric: bool):
    """An evaluation with its runs made (as create_evaluation_runs makes them)."""
    from evaluations.services.lifecycle import evaluation_create, evaluation_runs_create

    evaluation = evaluation_create(
        organization=world.org,
        user=world.user,
        name=f"{rows}x{models}",
        dataset=world.dataset(rows).uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=[{"model": alias} for alias in world.models[:models]],
        metrics=[world.metric.uuid] if metric else [],
    )
    evaluation_runs_create(evaluation_id=evaluation.pk)
    evaluation.refresh_from_db()
    return evaluation


def outputs_finish(evaluation, fraction: float, *, metric) -> None:
    """Finish `fraction` of the outputs (one in ten failed) as workers store them, count them as the receiver does,
    and give each succeeded output a score."""
    from django.utils import timezone

    from evaluations.models import EvaluationResult, MetricScore
    from evaluations.services.counters import outputs_count
    from runners.models import Run

    pending = Run.objects.filter(job=evaluation.job, status__in=("queued", "running"))
    queued = list(pending.order_by("created_at").values_list("pk", flat=True))
    chosen = queued[: int(len(queued) * fraction)] if fraction < 1 else queued
    now = timezone.now()
    failed = chosen[::10]
    succeeded = list(set(chosen) - set(failed))
    for offset in range(0, len(succeeded), 2000):
        part = succeeded[offset : offset + 2000]
        Run.objects.filter(pk__in=part).update(
            status="succeeded",
            output="An answer of a few words, as a model gives it.",
            latency_ms=random.uniform(200, 2000),
            usage={"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
            started_at=now,
            finished_at=now,
        )
    Run.objects.filter(pk__in=failed).update(
        status="failed", error_type="provider_error", error_message="HTTP 500", finished_at=now
    )
    if fraction < 1:  # as many running as a worker has in flight
        running = list(Run.objects.filter(job=evaluation.job, status="queued").values_list("pk", flat=True)[:8])
        Run.objects.filter(pk__in=running).update(status="running", started_at=now)
    outputs_count(evaluation_id=evaluation.pk)
    if metric is not None:
        results = EvaluationResult.objects.filter(evaluation=evaluation, run_id__in=succeeded).values_list(
            "pk", "run_id"
        )
        MetricScore.objects.bulk_create(
            [
                MetricScore(
                    result_id=pk,
                    scored_run_id=run_id,
                    metric=metric,
                    status="scored",
                    judgements=[{"outcome": "scored", "score": 0.5, "reason": "Fine."}],
                    mean=random.choice([0.0, 0.25, 0.5, 0.75, 1.0]),
                )
                for pk, run_id in results
            ],
            batch_size=2000,
        )
    analyze()


def reads(world: World, evaluation, count: int) -> dict[str, float]:
    progress = timed(lambda: _ok(world.page.get(f"/evaluations/{evaluation.pk}/progress")), count)
    page = timed(lambda: _ok(world.page.get(f"/evaluations/{evaluation.pk}?page=2")), count)
    api = timed(lambda: _ok(world.api.get(f"/api/v2/evaluations/{evaluation.pk}/results?page=2")), count)
    figures = {}
    for name, samples in (("progress", progress), ("results_page", page), ("results_api", api)):
        figures[f"{name}_p95_ms"] = p95(samples)
        figures[f"{name}_p50_ms"] = statistics.median(samples)
    return figures


def _ok(response):
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return response


def runs_table_fill(world: World, total: int) -> None:
    """Runs up to `total` in the table: Playground runs of the member (a job of one to three runs each), API runs
    of other users' models, spread over the integration's models and a few statuses."""
    from django.contrib.auth import get_user_model

    from runners.models import Job, Run

    others = [
        get_user_model().objects.create_user(username=f"bench-other-{i}-{uuid.uuid4().hex[:4]}") for i in range(3)
    ]
    missing = total - Run.objects.count()
    batch = []
    job = None
    for n in range(max(missing, 0)):
        playground = n % 3 == 0
        if playground and (job is None or n % 6 == 0):
            job = Job.objects.create(organization=world.org, user=world.user, kind=Job.Kind.PLAYGROUND)
        batch.append(
            Run(
                organization=world.org,
                user=world.user if playground else others[n % 3],
                job=job if playground else None,
                integration=world.integration,
                integration_name="bench" if n % 5 else "other-integration",
                model_alias=world.models[n % 4] if n % 7 else "rare-model",
                model_name="m",
                messages=[{"role": "user", "content": "Hello"}],
                status=["succeeded", "succeeded", "failed", "succeeded"][n % 4],
                output="Hello there.",
            )
        )
        if len(batch) == 5000:
            Run.objects.bulk_create(batch)
            batch = []
    if batch:
        Run.objects.bulk_create(batch)
    analyze()


def filters(world: World, count: int) -> dict[str, float]:
    from playground.selectors import playground_history

    figures = {}
    for name, query in (
        ("runs_filter_model", "model=rare-model"),
        ("runs_filter_integration", "integration=other-integration"),
        ("runs_filter_status", "status=failed"),
    ):
        figures[f"{name}_p95_ms"] = p95(timed(lambda q=query: _ok(world.api.get(f"/api/v2/runs?{q}")), count))
    figures["playground_history_p95_ms"] = p95(
        timed(lambda: playground_history(organization=world.org, user=world.user), count)
    )
    figures["playground_page_p95_ms"] = p95(timed(lambda: _ok(world.page.get("/playground")), count))
    return figures


def create_large(world: World, rows: int, models: int) -> dict[str, float]:
    from django.test.utils import override_settings

    from evaluations.services.lifecycle import evaluation_runs_create

    dataset = world.dataset(rows)
    analyze()
    body = {
        "name": "created",
        "dataset": str(dataset.uuid),
        "messages": [{"role": "user", "content": "{{question}}"}],
        "models": [{"model": alias} for alias in world.models[:models]],
    }
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        started = time.perf_counter()
        response = world.api.post("/api/v2/evaluations", body, format="json")
        answered = time.perf_counter() - started
    assert response.status_code == 202, response.content[:300]
    status = response.json()["status"]  # "creating" past INLINE_RUNS_MAX runs
    started = time.perf_counter()
    evaluation_runs_create(evaluation_id=response.json()["id"])
    made = time.perf_counter() - started
    return {
        "create_answer_s": answered,
        "create_status": status,
        "create_runs_in_background_s": made,
        "create_runs": rows * models,
    }


def main(argv=None) -> int:
    from bench.__main__ import configure_environment, create_database, drop_database

    args = parse_args(argv if argv is not None else sys.argv[1:])
    configure_environment(args)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    create_database(args.database_url)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        from django.conf import settings
        from django.test.utils import override_settings

        # Static files by name: the hashed manifest exists only after collectstatic, which a deployment runs.
        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with override_settings(STORAGES=storages):
            figures = run(args)
        redis.Redis.from_url(args.redis_url).flushdb()  # the messages no worker of the benchmark consumed
    finally:
        if not args.keep_db:
            drop_database(args.database_url)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"evaluations-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(figures, indent=2))
    print(f"\nsaved {path}")
    return 0


def run(args, *, progress=print) -> dict:
    import gc

    from core.heap import heap_freeze

    # As the web worker at start (gunicorn's post_worker_init): what the loaded application holds is out of the
    # garbage collector's full passes. Undone at the end (the smoke test's process goes on).
    heap_freeze()
    try:
        return _run(args, progress=progress)
    finally:
        gc.unfreeze()


def _run(args, *, progress) -> dict:
    from django.db import connection

    random.seed(21)
    small_rows, small_models = (int(part) for part in args.small.split("x"))
    large_rows, large_models = (int(part) for part in args.large.split("x"))
    world = World()
    progress(f"database: {connection.vendor}; making the {small_rows * small_models}- and "
             f"{large_rows * large_models}-run evaluations")  # fmt: skip
    small = evaluation_made(world, small_rows, small_models, metric=True)
    large = evaluation_made(world, large_rows, large_models, metric=True)
    figures: dict = {"database": connection.vendor, "small_runs": small.total_runs, "large_runs": large.total_runs}
    for state, fraction in (("running", 0.5), ("done", 1.0)):
        for evaluation in (small, large):
            outputs_finish(evaluation, fraction, metric=world.metric)
        figures[state] = {"small": reads(world, small, args.requests), "large": reads(world, large, args.requests)}
        progress(f"{state}: {json.dumps(figures[state])}")
    figures["create"] = create_large(world, large_rows, large_models)
    progress(f"create: {json.dumps(figures['create'])}")
    runs_table_fill(world, args.runs_table)
    from runners.models import Run

    figures["runs_in_table"] = Run.objects.count()
    figures["filters"] = filters(world, args.requests)
    progress(f"filters: {json.dumps(figures['filters'])}")
    print()
    print(report(figures))
    return figures


def report(figures: dict) -> str:
    lines = [
        f"{'figure':<44} {'2k-run p95':>11} {'20k-run p95':>12} {'ratio':>6}  target",
    ]
    for state in ("running", "done"):
        for key, label in (
            ("progress_p95_ms", "progress"),
            ("results_page_p95_ms", "results page (HTML, page 2)"),
            ("results_api_p95_ms", "results API (page 2)"),
        ):
            small, large = figures[state]["small"][key], figures[state]["large"][key]
            median = key.replace("p95", "p50")
            ok = large <= TARGET_RATIO * small and large < TARGET_READ_MS
            lines.append(
                f"{label + ' (' + state + ')':<44} {small:>9.1f}ms {large:>10.1f}ms {large / small:>6.2f}  "
                f"<= {TARGET_RATIO}x, < {TARGET_READ_MS:g} ms {'ok' if ok else 'MISSED'}"
                f"  (p50 {figures[state]['small'][median]:.1f} / {figures[state]['large'][median]:.1f} ms)"
            )
    create = figures["create"]
    ok = create["create_answer_s"] < TARGET_CREATE_S
    lines.append(
        f"{'create ' + str(create['create_runs']) + '-run evaluation (202)':<44} {create['create_answer_s']:>23.3f}s "
        f"{'':>6}  < {TARGET_CREATE_S:g} s {'ok' if ok else 'MISSED'}"
        f"  (answered {create['create_status']!r}; runs made afterwards in "
        f"{create['create_runs_in_background_s']:.1f} s)"
    )
    for key, value in figures["filters"].items():
        ok = value < TARGET_FILTER_MS
        label = key.removesuffix("_p95_ms").replace("_", " ") + f" ({figures['runs_in_table']:,} runs)"
        lines.append(f"{label:<44} {value:>22.1f}ms {'':>6}  < {TARGET_FILTER_MS:g} ms {'ok' if ok else 'MISSED'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
