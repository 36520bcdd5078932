"""A comparison as JSON (the API's shape) and as CSV (rows, or the per-metric summary), safe for spreadsheets."""

import csv
import itertools
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from evaluations.comparison import Comparison
from evaluations.export import BYTE_ORDER_MARK, escape_cell

CSV_PARTS = ("rows", "summary")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def comparison_payload(comparison: Comparison) -> dict:
    """{"dataset", "baseline", "columns", "metrics": [{id, name, columns: [{mean, scored, change}]}], "rows"}."""
    metrics = comparison.metrics
    columns = comparison.columns
    return {
        "dataset": str(comparison.evaluations[0].dataset.uuid),
        "confidence": 0.95,
        "interval": "paired_t",
        "baseline": 0,
        "columns": [
            {"position": c.position, "evaluation": str(c.evaluation.pk), "name": c.evaluation.name, "model": c.alias}
            for c in columns
        ],
        "metrics": [
            {
                "id": str(item.metric.uuid),
                "name": item.metric.name,
                "columns": [
                    {
                        "mean": _round(stats.mean),
                        "scored": stats.scored,
                        "change": None
                        if stats.change is None
                        else {
                            "paired": stats.change.n,
                            "mean": _round(stats.change.mean),
                            "ci_low": _round(stats.change.low),
                            "ci_high": _round(stats.change.high),
                            "better": stats.change.better,
                            "worse": stats.change.worse,
                            "unchanged": stats.change.same,
                        },
                    }
                    for stats in item.columns
                ],
            }
            for item in comparison.stats
        ],
        "rows": [
            {
                "row": row.index,
                "values": row.values,
                "cells": [
                    None
                    if cell is None
                    else {
                        "run": cell.run_id,
                        "status": cell.status,
                        "output": cell.output,
                        "scores": {
                            str(metric.uuid): (
                                {"status": s.status, "mean": s.mean, "error": s.error or None}
                                if (s := cell.scores.get(metric.uuid))
                                else None
                            )
                            for metric in metrics
                        },
                        "changes": None
                        if position == 0
                        else {str(metric.uuid): row.change(metric.uuid, position) for metric in metrics},
                    }
                    for position, cell in enumerate(row.cells)
                ],
            }
            for row in comparison.rows
        ],
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def comparison_row_lines(comparison: Comparison) -> Iterator[str]:
    """One line per dataset row: its values, then per column its status, output and scores, then per metric and
    non-baseline column the row's change (better, worse, unchanged; empty when not both scored)."""
    writer = csv.writer(_Echo())
    header = ["row", *comparison.dataset_columns]
    for column in comparison.columns:
        header += [f"{column.label} status", f"{column.label} output"]
        header += [f"{column.label} {metric.name}" for metric in comparison.metrics]
    for metric in comparison.metrics:
        header += [f"{metric.name} change {column.label}" for column in comparison.columns[1:]]
    yield writer.writerow([escape_cell(name) for name in header])
    for row in comparison.rows:
        line = [str(row.index), *(escape_cell(row.values.get(name)) for name in comparison.dataset_columns)]
        for cell in row.cells:
            line += [cell.status if cell else "", escape_cell(cell.output if cell else None)]
            line += [_number(cell.score(metric.uuid) if cell else None) for metric in comparison.metrics]
        for metric in comparison.metrics:
            line += [row.change(metric.uuid, position) or "" for position in range(1, len(comparison.columns))]
        yield writer.writerow(line)


def comparison_summary_lines(comparison: Comparison) -> Iterator[str]:
    """One line per metric x column: its mean and, against the baseline, the paired change with its 95 % CI."""
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            *("metric", "evaluation", "model", "baseline", "mean", "scored", "paired", "change", "ci_low"),
            *("ci_high", "better", "worse", "unchanged"),
        ]
    )
    for item in comparison.stats:
        for column, stats in zip(comparison.columns, item.columns, strict=True):
            change = stats.change
            line = [escape_cell(item.metric.name), escape_cell(column.evaluation.name), escape_cell(column.alias)]
            line += ["yes" if column.position == 0 else "no", _number(stats.mean), str(stats.scored)]
            if change is None:
                line += [""] * 7
            else:
                line += [str(change.n), _number(change.mean), _number(change.low), _number(change.high)]
                line += [str(change.better), str(change.worse), str(change.same)]
            yield writer.writerow(line)


def comparison_csv_response(comparison: Comparison, part: str = "rows") -> StreamingHttpResponse:
    """The comparison's rows (or its summary, part="summary") as a UTF-8 CSV download with a byte order mark."""
    lines = comparison_summary_lines(comparison) if part == "summary" else comparison_row_lines(comparison)
    response = StreamingHttpResponse(itertools.chain([BYTE_ORDER_MARK], lines), content_type="text/csv; charset=utf-8")
    suffix = "-summary" if part == "summary" else ""
    response["Content-Disposition"] = f'attachment; filename="comparison{suffix}.csv"'
    return response
