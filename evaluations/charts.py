"""Small server-rendered SVG charts (no JavaScript, no CDN): a histogram with labelled axes.

Every piece of text goes through format_html, so a model alias or metric name cannot inject markup.
"""

import math
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 260, 120
LEFT, RIGHT, TOP, BOTTOM = 28, 8, 8, 30


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


def bins_fixed(values: list[float], *, low: float, high: float, count: int) -> list[Bin]:
    width = (high - low) / count
    counts = [0] * count
    for value in values:
        position = min(int((value - low) / width), count - 1) if width else 0
        counts[max(position, 0)] += 1
    return [Bin(low + i * width, low + (i + 1) * width, n) for i, n in enumerate(counts)]


def bins_auto(values: list[float], *, count: int = 10) -> list[Bin]:
    """Bins from 0 to a round number just above the largest value."""
    raw_step = (max(values, default=0) or 1) / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * magnitude >= raw_step)
    return bins_fixed(values, low=0, high=step * count, count=count)


def histogram_svg(*, bins: list[Bin], title: str, x_format: str = "{:g}", css_class: str = "") -> SafeString:
    """A bar per bin; the title and a description with every count are there for screen readers."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    tallest = max((b.count for b in bins), default=0) or 1
    bar_w = plot_w / max(len(bins), 1)
    bars = []
    for i, b in enumerate(bins):
        h = plot_h * b.count / tallest
        bars.append(
            (
                f"{LEFT + i * bar_w + 1:.1f}",
                f"{TOP + plot_h - h:.1f}",
                f"{max(bar_w - 2, 1):.1f}",
                f"{h:.1f}",
                f"{x_format.format(b.low)}–{x_format.format(b.high)}: {b.count}",
            )
        )
    bars_svg = format_html_join(
        "",
        '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        bars,
    )
    description = ", ".join(f"{x_format.format(b.low)} to {x_format.format(b.high)}: {b.count}" for b in bins)
    first, last = (bins[0].low, bins[-1].high) if bins else (0, 1)
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">'
        "<title>{}</title><desc>{}</desc>"
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        "{}"
        '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>'
        '<text class="tick" x="{}" y="{}" text-anchor="end">0</text>'
        '<text class="tick" x="{}" y="{}" text-anchor="start">{}</text>'
        '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>'
        '<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>'
        "</svg>",
        css_class,
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        title,
        title,
        description,
        LEFT,
        TOP,
        LEFT,
        TOP + plot_h,
        LEFT,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h,
        bars_svg,
        LEFT - 4,
        TOP + 8,
        tallest,
        LEFT - 4,
        TOP + plot_h,
        LEFT,
        TOP + plot_h + 12,
        x_format.format(first),
        WIDTH - RIGHT,
        TOP + plot_h + 12,
        x_format.format(last),
        LEFT + plot_w / 2,
        HEIGHT - 4,
        title,
    )


def score_histogram(values: list[float], *, metric_name: str) -> SafeString:
    return histogram_svg(
        bins=bins_fixed(values, low=0.0, high=1.0, count=10),
        title=f"{metric_name}: score distribution",
        x_format="{:.1f}",
        css_class="chart-score",
    )


def latency_histogram(latencies_ms: list[float]) -> SafeString:
    return histogram_svg(
        bins=bins_auto(latencies_ms, count=10), title="Latency (ms)", x_format="{:g}", css_class="chart-latency"
    )
