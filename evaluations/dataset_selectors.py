"""Reads of datasets beyond evaluations.selectors' list and get: the latest version of each, a dataset's versions,
its rows a page at a time, and every row in order for a download. Always scoped by the dataset the caller found
in its organisation."""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from evaluations.models import Dataset, DatasetRow
from evaluations.selectors import dataset_list

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def dataset_latest_list(*, organization) -> QuerySet[Dataset]:
    """The latest version of each of the organisation's datasets, newest first."""
    newer = Dataset.objects.filter(lineage=OuterRef("lineage"), version__gt=OuterRef("version"))
    return dataset_list(organization=organization).filter(~Exists(newer))


def dataset_versions(*, dataset: Dataset) -> list[Dataset]:
    """Every version of `dataset`'s lineage (itself included), the latest first."""
    return list(
        Dataset.objects.filter(organization_id=dataset.organization_id, lineage=dataset.lineage)
        .select_related("created_by")
        .order_by("-version")
    )


@dataclass(frozen=True)
class RowsPage:
    """One page of a dataset's rows: `number` from 1, `size` rows a page, `pages` pages in all (at least 1)."""

    rows: list[DatasetRow]
    number: int
    size: int
    count: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.size))

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def dataset_rows_page(*, dataset: Dataset, page: int = 1, size: int = DEFAULT_PAGE_SIZE) -> RowsPage:
    """Rows (page - 1) * size + 1 to page * size. Row indexes run 1..row_count without gaps (every write stores
    them so), so a page is a range on the (dataset, index) unique index: one query however deep the page."""
    first = (page - 1) * size
    rows = list(dataset.rows.filter(index__gt=first, index__lte=first + size).order_by("index"))
    return RowsPage(rows=rows, number=page, size=size, count=dataset.row_count)


def dataset_row_values(*, dataset: Dataset, chunk_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every row's values in order, read `chunk_size` at a time (a download streams them)."""
    return dataset.rows.order_by("index").values_list("values", flat=True).iterator(chunk_size=chunk_size)
