"""Readiness: can this process reach what serving needs, the database and the broker?"""

import threading
import time
from concurrent.futures import Future

from django.conf import settings
from django.db import connection

from runners.broker import broker_check


def _database_select_one() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # this thread's connection (given back to the pool on PostgreSQL)


def _broker_reachable() -> None:
    broker_check(timeout=float(settings.HEALTH_CHECK_TIMEOUT))


CHECKS = {"database": _database_select_one, "broker": _broker_reachable}


def _started(check) -> Future:
    # A database driver (or psycopg's pool, waiting up to its own timeout) can block far longer than a probe waits:
    # each check runs on a thread of its own, and one still blocked at the deadline counts as failed.
    future: Future = Future()

    def run() -> None:
        try:
            check()
        except Exception:
            future.set_result(False)
        else:
            future.set_result(True)

    threading.Thread(target=run, name="readiness-check", daemon=True).start()
    return future


def readiness_failures() -> list[str]:
    """The components that did not answer within HEALTH_CHECK_TIMEOUT seconds, checked at the same time: a
    sublist of ["database", "broker"], empty when ready. No error detail is kept (probes reveal nothing else)."""
    deadline = time.monotonic() + settings.HEALTH_CHECK_TIMEOUT
    started = {name: _started(check) for name, check in CHECKS.items()}
    failed = []
    for name, future in started.items():
        try:
            reachable = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            reachable = False
        if not reachable:
            failed.append(name)
    return failed
