"""The product under test: runs created with run_enqueue and executed by a real Celery worker subprocess.

Needs Django set up (the caller's database and REDIS_URL); the worker gets the same database and broker
through DATABASE_URL and REDIS_URL, and consumes a queue of its own so that no other worker on the same
Redis takes the benchmark's messages.
"""

import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from bench.processes import RssSampler, stop_process, tree_cpu_seconds, wait_until
from integrations.models import ModelProperty
from integrations.services import integration_upsert
from organizations.models import Membership, Organization, Role
from runners.models import TERMINAL_STATUSES, Job, Run, RunStatus
from runners.services import job_create, run_enqueue

MODEL_NAME = "bench-model"
API_KEY_HEADER = "x-bench-api-key"
API_KEY_VALUE = "sk-bench-not-a-secret"
MESSAGES = [{"role": "user", "content": "Say hello in five words."}]
PARAMETERS = {"max_tokens": 16, "temperature": 0.2}
POLL_INTERVAL = 0.05  # seconds between COUNTs while a batch drains
STALL_SECONDS = 90  # a batch in which no run finished for this long has lost runs: report it, go on
# One indexed lookup by primary key per 20 ms while a single run is out. The figure comes from the Run's own
# timestamps, so this only sets the pause between runs; polling faster only loads the machine under test.
SEQUENTIAL_POLL_INTERVAL = 0.02
WARMUP_RUNS = 3


def database_url() -> str:
    """DATABASE_URL of the database Django uses now (the test database under pytest)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    raise RuntimeError(f"the benchmark does not support {db['ENGINE']}")


def integration_document(api_base: str, alias: str) -> dict:
    return {
        "authentication_type": "api_key",
        "api_key_header": API_KEY_HEADER,
        "api_key_value": API_KEY_VALUE,
        "model_properties": [
            {"name": MODEL_NAME, "alias": alias, "supported_parameters": ["max_tokens", "temperature"]}
        ],
        "endpoint": api_base,
    }


PLAIN_WORKER = ["celery", "-A", "integrations_site", "worker"]


def procfile_command(name: str, env: dict) -> list[str]:
    """The Procfile's `name:` command as argv, with `${VAR:-default}` and `$VAR` expanded from `env`."""
    procfile = Path(settings.BASE_DIR) / "Procfile"
    (line,) = [line for line in procfile.read_text().splitlines() if line.startswith(f"{name}:")]

    def expand(match: re.Match) -> str:
        return env.get(match["name"]) or match["default"] or ""

    command = re.sub(r"\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}", expand, line.partition(":")[2])
    return shlex.split(command)


@contextmanager
def routed_to(queue: str):
    """Send execute_run to `queue` while inside (Celery caches its router, so it is rebuilt both ways)."""
    from celery import current_app as app

    def reroute(routes) -> None:
        app.conf.task_routes = routes
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)

    previous = app.conf.task_routes
    reroute({"runners.execute_run": {"queue": queue}})
    try:
        yield
    finally:
        reroute(previous)


class Worker:
    """The Procfile's worker command in subprocesses, with WORKER_CONCURRENCY=C, consuming the benchmark's queue
    (`-Q`, and RUNNERS_QUEUE) under a node name of its own.

    `processes` > 1 starts that many such workers on the queue with C / processes threads each (the Procfile's
    worker scaled out, as `honcho start -c worker=2` does): memory and CPU are then summed over them.
    `command="plain"` starts `celery -A integrations_site worker` exactly, with no flag at all (the queue comes
    from RUNNERS_QUEUE, pool and concurrency from the Celery settings): the worker as Celery's documentation and
    deployment guides start it. `--trace` and experiments need flags, so they apply to the Procfile's command only.
    """

    def __init__(
        self,
        *,
        concurrency: int,
        queue: str,
        env: dict,
        log_path: Path,
        processes: int = 1,
        profile_path: Path | None = None,
        trace_path: Path | None = None,
        command: str = "procfile",
    ) -> None:
        self.concurrency, self.queue, self.env, self.log_path = concurrency, queue, env, log_path
        self.command = command
        self.processes_wanted = processes
        self.profile_path, self.trace_path = profile_path, trace_path
        self.processes: list[subprocess.Popen] = []
        self.profiler: subprocess.Popen | None = None
        self.sampler: RssSampler | None = None
        self.peak_rss = 0
        # CPU time from the first run claimed (startup and imports excluded) to the end.
        self.cpu_at_start: float | None = None
        self.cpu_s: float | None = None

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def __enter__(self) -> "Worker":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(self.env)
        include = []  # celery takes one comma-separated -I (a second -I replaces the first)
        if env.get("BENCH_EXPERIMENT"):
            include.append("bench.experiments")
        if self.trace_path is not None:
            include.append("bench.tracing")
            env["BENCH_TRACE_FILE"] = str(self.trace_path)
        extra = ["-I", ",".join(include)] if include else []
        threads = max(1, self.concurrency // self.processes_wanted)
        env.update(RUNNERS_QUEUE=self.queue, WORKER_CONCURRENCY=str(threads))
        with self.log_path.open("w") as log:
            for index in range(self.processes_wanted):
                if self.command == "plain":
                    argv = PLAIN_WORKER
                else:
                    node = ["-Q", self.queue, "-n", f"{self.queue}-{index}@%h"]
                    argv = [*procfile_command("worker", env), *node, *extra]
                # The venv's celery, as the Procfile's PATH (make start) finds it.
                argv = [sys.executable, "-m", *argv]
                process = subprocess.Popen(
                    argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR, start_new_session=True
                )
                self.processes.append(process)
        self.sampler = RssSampler(*self.pids).start()
        return self

    def working(self) -> None:
        """The worker has claimed its first run: measure (and profile) from here on."""
        if self.cpu_at_start is None:
            self.cpu_at_start = tree_cpu_seconds(*self.pids)
            if self.profile_path is not None:
                self.profiler = start_profiler(self.pids[0], self.profile_path)

    def __exit__(self, *exc_info) -> None:
        if self.cpu_at_start is not None:
            self.cpu_s = tree_cpu_seconds(*self.pids) - self.cpu_at_start
        if self.profiler is not None:
            stop_profiler(self.profiler)
        for process in self.processes:
            stop_process(process)
        self.peak_rss = self.sampler.stop()

    def check_alive(self) -> bool:
        for process in self.processes:
            if process.poll() is not None:
                tail = self.log_path.read_text()[-3000:]
                raise RuntimeError(f"a Celery worker exited with {process.returncode}:\n{tail}")
        return True


def start_profiler(pid: int, path: Path) -> subprocess.Popen:
    """py-spy on the worker, sampling only the thread that holds the GIL: where the worker spends its CPU.

    (A thread that released the GIL for a syscall may still be counted until another takes it: I/O-heavy
    threads are somewhat over-represented.)
    """
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--gil", "--rate", "250", "--format", "raw", "--output", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profiler(profiler: subprocess.Popen) -> None:
    # py-spy writes its output on SIGINT.
    profiler.send_signal(2)
    try:
        profiler.wait(30)
    except subprocess.TimeoutExpired:
        profiler.kill()


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


class Product:
    def __init__(
        self,
        *,
        provider,
        log_dir: Path,
        label: str = "bench",
        trace: bool = False,
        experiment: str = "",
        worker_processes: int = 1,
        worker_command: str = "procfile",
    ) -> None:
        self.provider = provider
        self.trace, self.experiment = trace, experiment
        self.worker_processes = worker_processes
        self.worker_command = worker_command
        self.enqueued_at: dict[str, float] = {}
        self.log_dir = log_dir
        self.queue = f"{label}-{uuid.uuid4().hex[:8]}"
        self.organization, _ = Organization.objects.get_or_create(name=f"Bench {self.queue}")
        self.user = get_user_model().objects.create_user(username=self.queue)
        Membership.objects.create(user=self.user, organization=self.organization, role=Role.ADMIN)
        self.models: dict[float, ModelProperty] = {}
        self.worker_count = 0

    def __enter__(self) -> "Product":
        return self

    def __exit__(self, *exc_info) -> None:
        import redis

        # The queue is empty by now; drop it and kombu's binding so that nothing is left behind on Redis.
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(self.queue, f"_kombu.binding.{self.queue}")

    def worker_env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url(),
            REDIS_URL=settings.CELERY_BROKER_URL,
            DJANGO_SETTINGS_MODULE="integrations_site.settings",
            DJANGO_DEBUG="true" if settings.DEBUG else "false",
            DJANGO_SECRET_KEY=settings.SECRET_KEY,
            INTEGRATIONS_ENCRYPTION_KEY=settings.INTEGRATIONS_ENCRYPTION_KEY,
            LITELLM_LOCAL_MODEL_COST_MAP="True",
            PYTHONUNBUFFERED="1",
            BENCH_EXPERIMENT=self.experiment,
        )
        # Production settings block private networks; the benchmark's provider is on loopback.
        env.setdefault("RUNNERS_ALLOWED_NETWORKS", "127.0.0.0/8")
        return env

    def worker(self, *, concurrency: int, phase: str, profile: bool = False) -> Worker:
        self.worker_count += 1
        stem = f"{self.queue}-{self.worker_count:02d}-{phase}"
        return Worker(
            concurrency=concurrency,
            queue=self.queue,
            env=self.worker_env(),
            log_path=self.log_dir / f"{stem}-worker.log",
            profile_path=self.log_dir / f"{stem}-py-spy.txt" if profile else None,
            processes=self.worker_processes,
            command=self.worker_command,
            trace_path=self.log_dir / f"{stem}-trace-{{pid}}.jsonl" if self.trace else None,
        )

    def stages(self, worker: Worker, rows: list[dict], latency_ms: float) -> dict | None:
        if worker.trace_path is None:
            return None
        from bench.tracing import stage_summary

        marks = {str(row["id"]): {"created": row["created_at"].timestamp()} for row in rows}
        for run_id, run_marks in marks.items():
            run_marks["enqueued"] = self.enqueued_at.get(run_id)
        return stage_summary(worker.trace_path, marks, latency_ms)

    def model(self, latency_ms: float) -> ModelProperty:
        if latency_ms not in self.models:
            alias = f"{MODEL_NAME}@{latency_ms:g}ms"
            integration = integration_upsert(
                organization=self.organization,
                user=self.user,
                name=f"bench-{latency_ms:g}ms".replace(".", "_"),
                document=integration_document(self.provider.api_base(latency_ms), alias),
            )
            self.models[latency_ms] = integration.models.get()
        return self.models[latency_ms]

    def enqueue(self, *, model: ModelProperty, job: Job) -> Run:
        run = run_enqueue(model=model, user=self.user, messages=MESSAGES, parameters=dict(PARAMETERS), job=job)
        # Autocommit: the transaction has committed and the message is published when run_enqueue returns.
        self.enqueued_at[str(run.pk)] = time.time()
        return run

    def new_job(self) -> Job:
        return job_create(organization=self.organization, user=self.user, kind=Job.Kind.API)

    def wait_for_job(self, job: Job, runs: int, worker: Worker) -> bool:
        """Poll until every run of `job` is terminal (True), or until none has finished for STALL_SECONDS."""
        done, progress_at = -1, time.monotonic()
        while True:
            worker.check_alive()
            if worker.cpu_at_start is None and Run.objects.filter(job=job, started_at__isnull=False).exists():
                worker.working()
            count = Run.objects.filter(job=job, status__in=TERMINAL_STATUSES).count()
            if count >= runs:
                return True
            if count != done:
                done, progress_at = count, time.monotonic()
            elif time.monotonic() - progress_at > STALL_SECONDS:
                return False
            time.sleep(POLL_INTERVAL)

    def job_rows(self, job: Job) -> list[dict]:
        return list(
            Run.objects.filter(job=job).values(
                "id", "status", "error_type", "created_at", "started_at", "finished_at", "latency_ms"
            )
        )

    def sequential(self, *, runs: int, latency_ms: float, concurrency: int, profile: bool = False) -> dict:
        """Runs one at a time on a running, warmed-up worker: created → stored, per run."""
        model = self.model(latency_ms)
        # Routing is set per phase: several Products (variants) may take turns in one benchmark run.
        with routed_to(self.queue), self.worker(concurrency=concurrency, phase="overhead", profile=profile) as worker:
            warmup = self.new_job()
            for _ in range(WARMUP_RUNS):
                self._one(model, warmup, worker, timeout=120)
            worker.working()
            job = self.new_job()
            for _ in range(runs):
                self._one(model, job, worker, timeout=60)
        rows = self.job_rows(job)
        latency = latency_ms / 1000
        return {
            "runs": runs,
            "succeeded": sum(row["status"] == RunStatus.SUCCEEDED for row in rows),
            "errors": sorted({row["error_type"] for row in rows if row["error_type"]}),
            "overheads_ms": [
                (_seconds(row["finished_at"], row["created_at"]) - latency) * 1000 for row in rows if row["finished_at"]
            ],
            "breakdown_ms": breakdown(rows, latency),
            "stages": self.stages(worker, rows, latency_ms),
            "peak_rss_bytes": worker.peak_rss,
            "cpu_s": worker.cpu_s,
        }

    def _one(self, model, job, worker, *, timeout: float) -> None:
        run = self.enqueue(model=model, job=job)
        wait_until(
            lambda: worker.check_alive() and Run.objects.filter(pk=run.pk, status__in=TERMINAL_STATUSES).exists(),
            timeout=timeout,
            interval=SEQUENTIAL_POLL_INTERVAL,
            what=f"run {run.pk}",
        )

    def batch(
        self, *, runs: int, latency_ms: float, concurrency: int, profile: bool = False, phase: str = "batch"
    ) -> dict:
        """Enqueue `runs` runs, then start a worker and let it drain them: runs/s from first claim to last store."""
        model = self.model(latency_ms)
        job = self.new_job()
        started = time.perf_counter()
        with routed_to(self.queue):
            for _ in range(runs):
                self.enqueue(model=model, job=job)
        enqueue_seconds = time.perf_counter() - started
        self.provider.reset_stats()
        with self.worker(concurrency=concurrency, phase=phase, profile=profile) as worker:
            complete = self.wait_for_job(job, runs, worker)
        rows = self.job_rows(job)
        finished = [row for row in rows if row["finished_at"]]
        first_claim = min(row["started_at"] for row in finished)
        last_store = max(row["finished_at"] for row in finished)
        elapsed = _seconds(last_store, first_claim)
        return {
            "runs": runs,
            "succeeded": sum(row["status"] == RunStatus.SUCCEEDED for row in rows),
            "errors": sorted({row["error_type"] for row in rows if row["error_type"]}),
            "stalled": not complete,
            "statuses": dict(Counter(row["status"] for row in rows)),
            "elapsed_s": elapsed,
            # Runs stored per second; when runs were lost (stalled) only the stored ones count.
            "throughput": len(finished) / elapsed,
            "enqueue_per_s": runs / enqueue_seconds,
            "stages": self.stages(worker, rows, latency_ms),
            "peak_rss_bytes": worker.peak_rss,
            "cpu_s": worker.cpu_s,
            "max_in_flight": self.provider.stats()["max_in_flight"],
        }


def breakdown(rows: list[dict], latency: float) -> dict:
    """Medians of where a run's overhead goes: waiting for a worker, worker bookkeeping, the HTTP exchange."""
    from statistics import median

    parts = {"queue_ms": [], "worker_ms": [], "exchange_ms": []}
    for row in rows:
        if not (row["started_at"] and row["finished_at"] and row["latency_ms"] is not None):
            continue
        in_worker = _seconds(row["finished_at"], row["started_at"])
        parts["queue_ms"].append(_seconds(row["started_at"], row["created_at"]) * 1000)
        parts["worker_ms"].append(in_worker * 1000 - row["latency_ms"])
        parts["exchange_ms"].append(row["latency_ms"] - latency * 1000)
    return {name: round(median(values), 2) if values else None for name, values in parts.items()}
