"""Run ids on log lines: what a runner logs while it executes a run carries run_id, integration_id and
organization_id (as record attributes, which the JSON format of LOG_FORMAT=json prints).

The ids live in a context variable set for the duration of a run in its task thread (runners.tasks); coroutines
the run hands to the shared event loop see them too (asyncio.run_coroutine_threadsafe schedules the task in a copy
of the submitting thread's context). RunContextFilter, installed on the log handler, copies them onto every record.
"""

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_run_ids: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("run_log_ids", default=None)


@contextmanager
def run_log_context(*, run_id: str) -> Iterator[None]:
    """Log lines within the block carry `run_id` (and the ids bound later with run_log_bind)."""
    token = _run_ids.set({"run_id": str(run_id)})
    try:
        yield
    finally:
        _run_ids.reset(token)


def run_log_bind(*, integration_id: Any, organization_id: Any) -> None:
    """Add the claimed run's integration and organisation ids to the current run's log context."""
    ids = _run_ids.get()
    if ids is not None:
        ids.update(
            integration_id=str(integration_id) if integration_id is not None else None,
            organization_id=str(organization_id) if organization_id is not None else None,
        )


class RunContextFilter(logging.Filter):
    """Adds run_id, integration_id and organization_id to records logged within a run."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _run_ids.get()
        if ids:
            for name, value in ids.items():
                setattr(record, name, value)
        return True


class JsonLinesFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, the run ids when set, and the exception if any."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
