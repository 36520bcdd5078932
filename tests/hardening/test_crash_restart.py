"""A batch of 300 runs survives a worker SIGKILLed mid-batch, and separately a Redis restart mid-batch: every run
reaches a terminal state, none is lost, none stores two results.

Evidence for each run: the provider's recorded requests (each carries the run id in a header), Run.attempt_log,
and a database trigger that records every write of a terminal status, so a second stored result would show up
even if it wrote the same values.
"""

import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.db import connection

from runners.models import TERMINAL_STATUSES, Run
from runners.tasks import execute_run
from tests.fixtures.worker import TEST_QUEUE, _celery_app
from tests.runners.conftest import provider_document

BATCH = 300
LOST_AFTER = 3  # seconds: the visibility timeout of an unacknowledged message, and when a running run is presumed lost
# The worker's reaper runs every second: it also publishes again the runs whose message the broker lost.
WORKER_ENV = {
    "RUNNERS_LOST_AFTER_SECONDS": str(LOST_AFTER),
    "RUNNERS_REAP_INTERVAL": "1",
    "RUNNERS_REAP_AFTER_SECONDS": "120",  # redelivery, not the reaper, finishes the killed worker's runs
}


@pytest.fixture
def outcome_writes(transactional_db):
    """outcome_writes() -> Counter of run id -> number of UPDATEs that stored a terminal status (a DB trigger)."""
    table = Run._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE hardening_outcome_write (run_id varchar(64), status varchar(16))")
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION hardening_outcome_write() RETURNS trigger AS $$ BEGIN "
                "INSERT INTO hardening_outcome_write VALUES (NEW.id::text, NEW.status); RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER hardening_outcome_write AFTER UPDATE ON {table} FOR EACH ROW "
                "WHEN (NEW.status IN ('succeeded', 'failed')) EXECUTE FUNCTION hardening_outcome_write()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER hardening_outcome_write AFTER UPDATE ON {table} FOR EACH ROW "
                "WHEN NEW.status IN ('succeeded', 'failed') "
                "BEGIN INSERT INTO hardening_outcome_write VALUES (NEW.id, NEW.status); END"
            )

    def writes() -> Counter:
        with connection.cursor() as cursor:
            cursor.execute("SELECT run_id FROM hardening_outcome_write")
            return Counter(row[0].replace("-", "") for row in cursor.fetchall())

    yield writes
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP TRIGGER hardening_outcome_write{' ON ' + table if connection.vendor == 'postgresql' else ''}"
        )
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION hardening_outcome_write()")
        cursor.execute("DROP TABLE hardening_outcome_write")


@pytest.fixture
def batch(openai_server, integrate, queued_run):
    """batch() -> BATCH queued runs (not yet published) of one integration; the provider sees each run's id."""

    def create() -> list[Run]:
        document = provider_document(openai_server.url, custom_header_mapping={"run_id": "X-Run-Id"})
        integration = integrate(document)
        return [
            queued_run(integration, messages=[{"role": "user", "content": f"run number {number}"}])
            for number in range(BATCH)
        ]

    return create


def publish(runs, broker_url=None) -> None:
    app = _celery_app()
    with app.connection_for_write(broker_url) as conn:
        for run in runs:
            execute_run.apply_async((str(run.pk),), connection=conn)


def wait_until_terminal(runs, *, count, timeout, worker=None) -> None:
    ids = [run.pk for run in runs]
    deadline = time.monotonic() + timeout
    while Run.objects.filter(pk__in=ids, status__in=TERMINAL_STATUSES).count() < count:
        if time.monotonic() > deadline:
            statuses = Counter(Run.objects.filter(pk__in=ids).values_list("status", flat=True))
            log = worker.log()[-1500:] if worker else ""
            raise AssertionError(f"fewer than {count} runs finished within {timeout} s: {dict(statuses)}\n{log}")
        time.sleep(0.05)


def wait_until_settled(runs, broker_url: str, *, worker, timeout: float = 40) -> list[str]:
    """Wait until every run is terminal, or the rest are queued with no message left in the broker; their ids."""
    client = redis.Redis.from_url(broker_url)
    ids = [run.pk for run in runs]
    deadline = time.monotonic() + timeout
    quiet_since, last = time.monotonic(), -1
    while True:
        finished = Run.objects.filter(pk__in=ids, status__in=TERMINAL_STATUSES).count()
        if finished == BATCH:
            return []
        if finished != last:
            quiet_since, last = time.monotonic(), finished
        if time.monotonic() - quiet_since > 2 * LOST_AFTER:
            queued = [str(pk) for pk in Run.objects.filter(pk__in=ids, status="queued").values_list("pk", flat=True)]
            messages = client.lrange(TEST_QUEUE, 0, -1) + client.hvals("unacked")
            if finished + len(queued) == BATCH and not any(q.encode() in m for q in queued for m in messages):
                return queued
        if time.monotonic() > deadline:
            Path("/tmp/unsettled-worker.log").write_text(worker.log())
            raise AssertionError(f"runs did not settle: {finished} finished\n{worker.log()[-2000:]}")
        time.sleep(0.1)


def republished(runs) -> int:
    return Run.objects.filter(pk__in=[run.pk for run in runs], republished_at__isnull=False).count()


def assert_each_run_stored_once(runs, openai_server, outcome_writes) -> Counter:
    """Every run succeeded with its own answer, from one execution; returns requests per run id."""
    requests = Counter(r.headers["x-run-id"] for r in openai_server.completion_requests)
    writes = outcome_writes()
    for run in Run.objects.filter(pk__in=[run.pk for run in runs]):
        number = run.messages[0]["content"].removeprefix("run number ")
        assert run.status == "succeeded", (run.pk, run.error_type, run.error_message)
        assert run.output == f"echo: run number {number}"
        assert run.attempts == 1 and len(run.attempt_log) == 1 and run.attempt_log[0]["status_code"] == 200
        assert requests[str(run.pk)] >= 1
        assert writes[run.pk.hex] == 1, f"run {run.pk} stored {writes[run.pk.hex]} results"
    assert set(requests) == {str(run.pk) for run in runs}  # no request for anything else
    assert sum(writes.values()) == BATCH
    return requests


@pytest.mark.slow
def test_a_batch_survives_its_worker_being_killed(
    celery_worker_process, openai_server, batch, outcome_writes, private_redis
):
    # A Redis of its own: the broker's unacked-restore lock is then not shared with other test sessions' workers.
    env = {**WORKER_ENV, "REDIS_URL": private_redis.url}
    openai_server.latency = 0.1
    runs = batch()
    first = celery_worker_process(env=env, concurrency=20)
    publish(runs, private_redis.url)
    wait_until_terminal(runs, count=BATCH // 3, timeout=40)

    first.kill()
    in_flight = Run.objects.filter(pk__in=[r.pk for r in runs], status="running").count()
    finished_before_kill = Run.objects.filter(pk__in=[r.pk for r in runs], status__in=TERMINAL_STATUSES).count()
    time.sleep(LOST_AFTER + 0.5)  # the killed worker's unacknowledged messages become visible again
    second = celery_worker_process(env=env, concurrency=20)
    lost = wait_until_settled(runs, private_redis.url, worker=second)
    # Kombu's Redis transport takes a message off the queue (RPOP) before it records it as unacknowledged (MULTI
    # ZADD/HSET); a worker killed between the two loses that message (celery/kombu#305, celery/celery#7950). Its run
    # stays queued until the worker's reaper publishes it again (runners.reaper.runs_republish_stale).
    assert len(lost) <= 3
    wait_until_terminal(runs, count=BATCH, timeout=30, worker=second)
    time.sleep(1)  # any late duplicate delivery would store within this

    requests = assert_each_run_stored_once(runs, openai_server, outcome_writes)
    executed_twice = [run_id for run_id, count in requests.items() if count > 1]
    # Only runs that were in flight when the worker died were sent twice (their first answer was never stored).
    assert in_flight > 0 and len(executed_twice) <= in_flight
    assert BATCH // 3 <= finished_before_kill < BATCH
    print(
        f"\nSIGKILL: {BATCH} runs, {finished_before_kill} finished before the kill, {in_flight} running at the kill, "
        f"{len(executed_twice)} re-sent to the provider, {republished(runs)} run(s) published again by the reaper, "
        f"{len(openai_server.completion_requests)} provider requests, 0 runs lost, 0 stored twice"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server (append-only file, fsync always) that can be restarted on the same port and data."""

    def __init__(self, directory) -> None:
        self.port = free_port()
        self.directory = directory
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        command += ["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis-server shuts down (the append-only file is already synced)
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_a_batch_survives_a_redis_restart(celery_worker_process, openai_server, batch, outcome_writes, private_redis):
    openai_server.latency = 0.1
    runs = batch()
    env = {**WORKER_ENV, "REDIS_URL": private_redis.url}
    worker = celery_worker_process(env=env, concurrency=20)
    publish(runs, private_redis.url)
    wait_until_terminal(runs, count=BATCH // 3, timeout=40)

    private_redis.stop()
    finished_before_restart = Run.objects.filter(pk__in=[r.pk for r in runs], status__in=TERMINAL_STATUSES).count()
    time.sleep(2)  # a real outage: the worker loses its broker connection
    private_redis.start()
    first_worker, restarts = worker, 0
    time.sleep(3)
    if worker.process.poll() is not None:
        # Celery can die with "Unrecoverable error" when its Redis connection drops while it restores unacknowledged
        # messages (an AttributeError in kombu's Redis transport): a process supervisor restarts it, as here.
        assert "Unrecoverable error" in worker.log()
        worker, restarts = celery_worker_process(env=env, concurrency=20), 1
    lost = wait_until_settled(runs, private_redis.url, worker=worker)
    assert len(lost) <= 3  # a message taken off the queue as the connection dropped (see the SIGKILL test)
    wait_until_terminal(runs, count=BATCH, timeout=30, worker=worker)  # the reaper publishes those again
    time.sleep(1)

    requests = assert_each_run_stored_once(runs, openai_server, outcome_writes)
    assert finished_before_restart < BATCH
    assert "Connection to broker lost" in first_worker.log()
    print(
        f"\nRedis restart: {BATCH} runs, {finished_before_restart} finished before the restart, "
        f"{sum(1 for c in requests.values() if c > 1)} re-sent to the provider, {republished(runs)} run(s) published "
        "again by the reaper, "
        f"{len(openai_server.completion_requests)} provider requests, {restarts} worker restart(s), 0 lost, "
        "0 stored twice"
    )
