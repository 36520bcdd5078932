"""Stage 1, claim: take a queued run (or one whose worker was lost) with one conditional UPDATE that returns it."""

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from integrations.models import Integration
from runners.models import Run, RunStatus

logger = logging.getLogger(__name__)


@functools.cache
def _claim_sql(condition: str, vendor: str) -> str:
    """The claim statement for `condition`, built once per database vendor."""
    quote = connection.ops.quote_name
    table, integrations = quote(Run._meta.db_table), quote(Integration._meta.db_table)
    column = {
        name: quote(Run._meta.get_field(name).column)
        for name in ("id", "status", "started_at", "claim_token", "integration")
    }
    assignments = f"{column['status']} = %s, {column['started_at']} = %s, {column['claim_token']} = %s"
    where = condition.format(**column)
    # The integration's version comes back with the run: runners.integration_cache reuses what it read while it holds.
    version, pk = quote(Integration._meta.get_field("updated_at").column), quote(Integration._meta.pk.column)
    integration_version = f"(SELECT {version} FROM {integrations} WHERE {pk} = {table}.{column['integration']})"  # noqa: S608
    returning = ", ".join(f"{table}.{quote(field.column)}" for field in Run._meta.concrete_fields)
    # Identifiers come from the models' metadata, values are parameters.
    return (
        f"UPDATE {table} SET {assignments} WHERE {column['id']} = %s AND {where} "  # noqa: S608
        f"RETURNING {returning}, {integration_version}"
    )


@dataclass(frozen=True)
class _RunLoader:
    """How a row of the claim's RETURNING becomes a Run: the fields' attnames, and each column's database converters
    (what a queryset applies: JSON decoding, time zones), worked out once per database vendor instead of per run."""

    attnames: tuple[str, ...]
    converters: tuple[tuple[int, Callable, Any], ...]

    def run(self, row: tuple) -> Run:
        values = list(row)
        for index, converter, column in self.converters:
            values[index] = converter(values[index], column, connection)
        return Run.from_db(connection.alias, self.attnames, values)


@functools.cache
def _run_loader(vendor: str) -> _RunLoader:
    fields = Run._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(Run._meta.db_table)
        for converter in [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]:
            converters.append((index, converter, column))
    return _RunLoader(attnames=tuple(field.attname for field in fields), converters=tuple(converters))


def _claimed(sql: str, params: list) -> Run | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    run = _run_loader(connection.vendor).run(row[:-1])
    run.integration_version = row[-1]
    return run


def run_claim(*, run_id: str) -> Run | None:
    """Take a queued run, or one whose worker was lost, and return it; None if another worker has it.

    A conditional UPDATE that returns the row (PostgreSQL and SQLite both have RETURNING): claiming and
    reading the run are one statement on the hot path. The returned run's claim_token is this worker's claim,
    and its integration_version the integration's updated_at (as the database driver returns it).
    """
    field = Run._meta.get_field
    claim, now = uuid.uuid4(), timezone.now()

    def prepared(name, value):
        return field(name).get_db_prep_value(value, connection)

    setting = [RunStatus.RUNNING.value, prepared("started_at", now), prepared("claim_token", claim)]
    run_pk = Run._meta.pk.get_db_prep_value(run_id, connection)
    queued = _claim_sql("{status} = %s", connection.vendor)
    run = _claimed(queued, [*setting, run_pk, RunStatus.QUEUED.value])
    if run is not None:
        return run
    # A redelivered message whose first worker died: no live worker runs this long, so take it over.
    lost_before = now - timedelta(seconds=settings.RUNNERS_LOST_AFTER_SECONDS)
    lost = _claim_sql("{status} = %s AND {started_at} < %s", connection.vendor)
    run = _claimed(lost, [*setting, run_pk, RunStatus.RUNNING.value, prepared("started_at", lost_before)])
    if run is not None:
        logger.warning("run %s: taking over from a lost worker", run_id)
    return run


def run_unclaim(*, run_id: str, claim: uuid.UUID, deferred_until) -> bool:
    """Give a claimed run back to the queue (it waits for its integration's capacity until `deferred_until`);
    False if this worker no longer holds the claim."""
    updated = Run.objects.filter(pk=run_id, status=RunStatus.RUNNING, claim_token=claim).update(
        status=RunStatus.QUEUED, started_at=None, claim_token=None, deferred_until=deferred_until
    )
    return updated == 1
