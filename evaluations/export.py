"""Results as CSV, one line per row x model, safe to open in a spreadsheet."""

import csv
import itertools
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from evaluations.results import StreamedResults
from prompts.templating import value_text

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP "CSV injection"),
# also after leading spaces, which spreadsheet programs skip, and in their full-width forms, which some of them
# read as the ASCII signs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Excel opens a CSV as UTF-8 only when it starts with a byte order mark; without one it guesses a legacy code page.
BYTE_ORDER_MARK = "\ufeff"


def escape_cell(value) -> str:
    """Text as a spreadsheet shows it, never evaluated: a formula character at the start (after any spaces) gets a
    ' before the cell; objects and lists are written as JSON."""
    text = value_text(value)
    if text is None:
        return ""
    return "'" + text if text.lstrip(" \u3000").startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _number(value) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def results_csv_lines(results: StreamedResults) -> Iterator[str]:
    """The CSV's lines, one per output, as the database cursor hands them over (nothing is held but a chunk)."""
    writer = csv.writer(_Echo())
    header = ["row", *results.columns, "model", "status", "output", "error", "latency_ms"]
    header += ["prompt_tokens", "completion_tokens", "total_tokens"]
    for metric in results.metrics:
        header += [f"{metric.name} score", f"{metric.name} reasons", f"{metric.name} error"]
    yield writer.writerow([escape_cell(name) for name in header])
    for index, values, cell in results.lines:
        error = f"{cell.error_type}: {cell.error_message or ''}".strip() if cell.error_type else ""
        line = [str(index), *(escape_cell(values.get(name)) for name in results.columns)]
        line += [escape_cell(cell.model_alias), cell.status, escape_cell(cell.output), escape_cell(error)]
        line += [_number(cell.latency_ms), _number(cell.prompt_tokens), _number(cell.completion_tokens)]
        line.append(_number(cell.total_tokens))
        for metric in results.metrics:
            score = cell.score(metric.uuid)
            reasons = " | ".join(j["reason"] for j in score.judgements if "reason" in j) if score else ""
            line += [
                _number(score.mean) if score else "",
                escape_cell(reasons),
                escape_cell(score.error if score else ""),
            ]
        yield writer.writerow(line)


def csv_response(results: StreamedResults) -> StreamingHttpResponse:
    """The results as a streamed CSV download named after the evaluation."""
    lines = itertools.chain([BYTE_ORDER_MARK], results_csv_lines(results))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"evaluation-{results.evaluation.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
