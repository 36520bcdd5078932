"""Small template helpers shared by the pages."""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """Indented JSON for <pre> blocks (autoescaped by the template)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@register.filter
def milliseconds(value) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


@register.filter
def status_label(status: str) -> str:
    return {"succeeded": "ok", "failed": "failed", "queued": "queued", "running": "running"}.get(status, status)
