"""Per-run stage timestamps inside a Celery worker, for `python -m bench --trace`.

Imported by the worker with `celery worker -I bench.tracing` when BENCH_TRACE_FILE is set: it wraps the
stages of runners.execution and its stage modules (claim, load, hand-off to the shared loop, the HTTP exchange on
the loop, the wake-up of the task thread, the result write) and listens to Celery's signals (message received, task
started and finished on its thread). One JSON line per run goes to BENCH_TRACE_FILE. Nothing in runners/
changes; the wrappers only take timestamps (time.time(), comparable with the Run's created_at).
"""

import atexit
import functools
import json
import os
import threading
import time

from celery.signals import task_postrun, task_prerun, task_received, worker_shutdown

# "{pid}" in the name: one file per worker process.
TRACE_FILE = os.environ.get("BENCH_TRACE_FILE", "").replace("{pid}", str(os.getpid()))

_received: dict[str, float] = {}
_current = threading.local()
_lock = threading.Lock()
_lines: list[str] = []


def _mark(name: str, when: float | None = None) -> None:
    record = getattr(_current, "record", None)
    if record is not None:
        record[name] = time.time() if when is None else when


def _timed(function, before: str | None, after: str | None):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if before:
            _mark(before)
        try:
            return function(*args, **kwargs)
        finally:
            if after:
                _mark(after)

    return wrapper


def _traced_submit(submit):
    @functools.wraps(submit)
    def wrapper(coroutine):
        record = getattr(_current, "record", None)

        async def traced():
            if record is not None:
                record["loop_start"] = time.time()
            try:
                return await coroutine
            finally:
                if record is not None:
                    record["loop_end"] = time.time()

        _mark("submit")
        return submit(traced())

    return wrapper


def install() -> None:
    from runners import delivery, execution, handler_delivery

    execution.run_claim = _timed(execution.run_claim, "claim_start", "claim_end")
    execution._release_database_connection = _timed(execution._release_database_connection, "loaded", None)
    for stage in (delivery, handler_delivery):
        stage.submit = _traced_submit(stage.submit)
        stage.wait_for_result = _timed(stage.wait_for_result, None, "woken")
    execution.run_store_outcome = _timed(execution.run_store_outcome, "store_start", "store_end")


@task_received.connect
def _on_received(sender=None, request=None, **kwargs):
    _received[request.id] = time.time()


@task_prerun.connect
def _on_prerun(sender=None, task_id=None, args=None, **kwargs):
    _current.record = {"run_id": str(args[0]) if args else None, "received": _received.pop(task_id, None)}
    _mark("prerun")


@task_postrun.connect
def _on_postrun(sender=None, task_id=None, **kwargs):
    _mark("postrun")
    record = getattr(_current, "record", None)
    _current.record = None
    if record is not None:
        with _lock:
            _lines.append(json.dumps(record))


@worker_shutdown.connect
def _flush(sender=None, **kwargs):
    with _lock:
        lines, _lines[:] = list(_lines), []
    if TRACE_FILE and lines:
        with open(TRACE_FILE, "a") as trace:
            trace.write("\n".join(lines) + "\n")


if TRACE_FILE:
    install()
    atexit.register(_flush)


# Stage boundaries, in order: (name, from, to). A stage is reported as milliseconds from one mark to the next.
STAGES = [
    ("run_enqueue: commit and publish", "created", "enqueued"),
    ("broker to worker (message received)", "enqueued", "received"),
    ("received to task thread", "received", "prerun"),
    ("task start to claim", "prerun", "claim_start"),
    ("claim and read the run (UPDATE ... RETURNING)", "claim_start", "claim_end"),
    ("load integration and model", "claim_end", "loaded"),
    ("release connection, build request", "loaded", "submit"),
    ("hand-off to the shared loop", "submit", "loop_start"),
    ("HTTP exchange on the loop", "loop_start", "loop_end"),
    ("loop to task thread", "loop_end", "woken"),
    ("outcome to store", "woken", "store_start"),
    ("store (UPDATE, cache)", "store_start", "store_end"),
    ("stored to task end", "store_end", "postrun"),
]


def stage_summary(path, marks: dict[str, dict], latency_ms: float) -> dict:
    """p50/p95 in ms of each stage over the traced runs (`marks`: run id to the bench's own timestamps)."""
    from pathlib import Path

    from bench.report import percentile

    pattern = Path(path)
    records = []
    for part in sorted(pattern.parent.glob(pattern.name.replace("{pid}", "*"))):
        records += [json.loads(line) for line in part.read_text().splitlines() if line.strip()]
    if not records:
        return {}
    stages: dict[str, list[float]] = {name: [] for name, *_ in STAGES}
    for record in records:
        record.update(marks.get(record.get("run_id"), {}))
        for name, start, end in STAGES:
            if record.get(start) is not None and record.get(end) is not None:
                value = (record[end] - record[start]) * 1000
                stages[name].append(value - latency_ms if name == "HTTP exchange on the loop" else value)
    return {
        "runs": len(records),
        "stages_ms": {
            name: {"p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2)}
            for name, values in stages.items()
            if values
        },
        "note": "HTTP exchange on the loop is shown minus the provider latency",
    }
