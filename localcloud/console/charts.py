"""Inline SVG line charts and single numbers for the dashboard page (no script, no external resources).

Example:
    >>> chart = line_chart([Series("orders.fifo", [(0.0, 1.0), (60.0, 3.0)])], start=0.0, end=120.0)
    >>> "<polyline" in chart and "orders.fifo" in chart
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from markupsafe import Markup

from localcloud.console.html import html, join

WIDTH, HEIGHT = 420, 150
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 8, 20
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")


@dataclass(frozen=True)
class Series:
    """One line: its label, its (epoch seconds, value) points in time order, and why it has none (if so)."""

    label: str
    points: list[tuple[float, float]] = field(default_factory=list)
    note: str = ""

    @property
    def latest(self) -> float | None:
        return self.points[-1][1] if self.points else None


def number(value: float | None) -> str:
    """A value for people: whole numbers without decimals, others with up to 2 (``-`` when there is none)."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _ceiling(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M")


def line_chart(series: list[Series], *, start: float, end: float, columns: int = 8) -> Markup:
    """An SVG chart of ``series`` over [start, end] with a legend of each series' latest value; ``columns``: the
    widget's width on the 24-column grid (a wider widget gets a wider chart, not a taller one)."""
    plotted = [s for s in series if s.points]
    top = _ceiling(max((v for s in plotted for _, v in s.points), default=0.0))
    width = max(WIDTH, WIDTH * columns // 8)
    inner_w, inner_h = width - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    span = max(end - start, 1.0)

    def x(t: float) -> float:
        return _LEFT + inner_w * min(max((t - start) / span, 0.0), 1.0)

    def y(v: float) -> float:
        return _TOP + inner_h * (1 - min(max(v / top, 0.0), 1.0))

    shapes = [
        html('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#c8ced6"/>', _LEFT, _TOP + inner_h, width - _RIGHT,
             _TOP + inner_h),
        html('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#eef1f4"/>', _LEFT, _TOP, width - _RIGHT, _TOP),
        html('<text x="{}" y="{}" text-anchor="end" font-size="10">{}</text>', _LEFT - 4, _TOP + 4, number(top)),
        html('<text x="{}" y="{}" text-anchor="end" font-size="10">0</text>', _LEFT - 4, _TOP + inner_h + 3),
        html('<text x="{}" y="{}" font-size="10">{}</text>', _LEFT, HEIGHT - 4, _clock(start)),
        html('<text x="{}" y="{}" text-anchor="end" font-size="10">{}</text>', width - _RIGHT, HEIGHT - 4,
             _clock(end)),
    ]
    for index, line in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in line.points)
        if len(line.points) > 1:
            shapes.append(html('<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>', colour, coords))
        for t, v in line.points[-1:] if len(line.points) > 1 else line.points:
            shapes.append(html('<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>', x(t), y(v), colour))
    title = "; ".join(s.label for s in series)
    svg = html('<svg role="img" viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMidYMid meet">'
               "<title>{}</title>{}</svg>", width, HEIGHT, title, join(shapes))
    return html("{}{}", svg, legend(series))


def legend(series: list[Series]) -> Markup:
    """Each series' colour, label and latest value (or why it has none)."""
    items = []
    for index, line in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        value = number(line.latest) if line.points else (line.note or "no data")
        items.append(html('<div><span style="color:{}">&#9632;</span> {}: <b>{}</b></div>', colour, line.label,
                          value))
    return html('<div class="legend">{}</div>', join(items))


def single_value(series: list[Series]) -> Markup:
    """The latest value of each series, large."""
    return join(html('<div><div class="big">{}</div><div class="muted">{}</div></div>',
                     number(line.latest) if line.points else (line.note or "no data"), line.label)
                for line in series)
