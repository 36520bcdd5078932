"""Writes for datasets: create one from pasted text or an upload, delete one that no evaluation uses."""

from typing import Any

from django.db import transaction

from core.problems import Invalid, Problem
from evaluations.datasets import decode, parse_dataset
from evaluations.models import Dataset, DatasetRow
from evaluations.services.common import InUse, name_clean
from organizations.models import Organization


def dataset_create(
    *,
    organization: Organization,
    user,
    name: Any,
    text: str | None = None,
    data: bytes | None = None,
    format: str | None = None,
    file_name: str = "",
) -> Dataset:
    """A dataset from pasted text or uploaded bytes (CSV or JSONL); Invalid lists its row/column errors."""
    errors: list[Problem] = []
    try:
        clean_name = name_clean(name, default=file_name.rsplit("/", 1)[-1])
    except Invalid as exc:
        errors += exc.errors
    try:
        if data is not None:
            text = decode(data)
        if not isinstance(text, str):
            raise Invalid([Problem(("content",), "Upload a file or paste the data.", "missing")])
        parsed = parse_dataset(text=text, format=format, file_name=file_name)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        dataset = Dataset.objects.create(
            organization=organization,
            name=clean_name,
            created_by=user,
            columns=parsed.columns,
            row_count=len(parsed.rows),
            source_format=parsed.format,
        )
        DatasetRow.objects.bulk_create(
            [DatasetRow(dataset=dataset, index=index, values=values) for index, values in enumerate(parsed.rows, 1)],
            batch_size=1000,
        )
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    used = dataset.evaluations.count()
    if used:
        raise InUse(f"The dataset is used by {used} evaluation(s); it is kept so that their results stay readable.")
    dataset.delete()
