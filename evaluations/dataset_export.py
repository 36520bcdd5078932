"""A dataset as it is stored, for download: CSV (its columns, every cell text a spreadsheet shows and never
evaluates, UTF-8 with a byte order mark) or JSON Lines for a dataset uploaded as JSON Lines (nested values kept)."""

import csv
import itertools
import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils.text import slugify

from evaluations.dataset_selectors import dataset_row_values
from evaluations.export import BYTE_ORDER_MARK, escape_cell
from evaluations.models import Dataset

JSONL_CONTENT_TYPE = "application/jsonl; charset=utf-8"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class _Echo:
    def write(self, value: str) -> str:
        return value


def dataset_csv_lines(dataset: Dataset) -> Iterator[str]:
    """The header row (the columns), then a line per row; objects and lists as JSON, null as an empty cell."""
    writer = csv.writer(_Echo())
    yield writer.writerow([escape_cell(name) for name in dataset.columns])
    for values in dataset_row_values(dataset=dataset):
        yield writer.writerow([escape_cell(values.get(name)) for name in dataset.columns])


def dataset_jsonl_lines(dataset: Dataset) -> Iterator[str]:
    """One JSON object per row, keys in column order, as stored (numbers were stored as their text)."""
    for values in dataset_row_values(dataset=dataset):
        yield json.dumps({name: values.get(name) for name in dataset.columns}, ensure_ascii=False) + "\n"


def dataset_filename(dataset: Dataset) -> str:
    extension = "jsonl" if dataset.source_format == "jsonl" else "csv"
    return f"{slugify(dataset.name) or 'dataset'}-v{dataset.version}.{extension}"


def dataset_download_response(dataset: Dataset) -> StreamingHttpResponse:
    """The dataset streamed as a file attachment: JSON Lines for a JSON Lines dataset, else CSV."""
    if dataset.source_format == "jsonl":
        response = StreamingHttpResponse(dataset_jsonl_lines(dataset), content_type=JSONL_CONTENT_TYPE)
    else:
        lines = itertools.chain([BYTE_ORDER_MARK], dataset_csv_lines(dataset))
        response = StreamingHttpResponse(lines, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{dataset_filename(dataset)}"'
    return response
