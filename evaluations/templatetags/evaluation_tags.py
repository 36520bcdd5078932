"""Template helpers for the evaluation pages."""

from django import template

from evaluations.code_metrics import code_describe
from prompts.templating import value_text

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key] (None when missing), for dicts keyed by a variable."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def cell_text(values, column) -> str:
    """A dataset cell as text: objects and lists as compact JSON, empty for a missing or null value."""
    return value_text(values.get(column)) or "" if hasattr(values, "get") else ""


@register.filter
def score(value) -> str:
    return "–" if value is None else f"{value:.2f}"


@register.filter
def seconds(value) -> str:
    """A duration for people: 42 s, 3 min 5 s."""
    if value is None:
        return "–"
    value = round(value)
    if value < 60:
        return f"{value} s"
    minutes, rest = divmod(value, 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


@register.filter
def cell_at(cells, position):
    return cells[position] if 0 <= position < len(cells) else None


@register.filter
def metric_check(metric) -> str:
    """A code metric's check for people ("Exact match · {{expected}}"); empty for an LLM judge."""
    return code_describe(metric.code) if getattr(metric, "is_code", False) else ""
