"""Small server-rendered SVG charts (no JavaScript, no CDN): a histogram with labelled axes.

Every piece of text goes through format_html, so a model alias or metric name cannot inject markup. The caption is
HTML beside the SVG (a figcaption), not SVG text: SVG text does not wrap, so a long metric name was cut at both ends.
"""

import math
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 260, 104
LEFT, RIGHT, TOP, BOTTOM = 28, 8, 8, 16


@dataclass(frozen=True)
class Chart:
    """An SVG chart and its caption (plain text, shown under it; also the SVG's accessible name)."""

    svg: SafeString
    caption: str


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


def auto_high(largest: float | None, *, count: int = 10) -> float:
    """A round number just above the largest value: the upper edge of `count` bins from 0."""
    raw_step = (largest or 1) / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * magnitude >= raw_step)
    return step * count


def bin_edges(*, low: float, high: float, count: int) -> list[tuple[float, float]]:
    """(low, high) of each of `count` equal bins; a database counts the values in each (evaluations.results)."""
    width = (high - low) / count
    # Rounded so that a value written as 0.3 falls in the bin that starts at 0.3 (0.1 * 3 is 0.30000000000000004).
    return [(round(low + i * width, 12), round(low + (i + 1) * width, 12)) for i in range(count)]


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
    )


SCORE_BINS = bin_edges(low=0.0, high=1.0, count=10)


def score_histogram(bins: list[Bin], *, metric_name: str) -> Chart:
    """Scores from 0 to 1 in the ten SCORE_BINS."""
    title = f"{metric_name}: score distribution"
    return Chart(svg=histogram_svg(bins=bins, title=title, x_format="{:.1f}", css_class="chart-score"), caption=title)


def latency_histogram(bins: list[Bin]) -> Chart:
    """Latencies in ten bins from 0 (auto_high gives the upper edge)."""
    title = "Latency (ms)"
    return Chart(svg=histogram_svg(bins=bins, title=title, x_format="{:g}", css_class="chart-latency"), caption=title)
