"""Small inline SVG charts, rendered here so the HTML export needs no library, CDN or network.

The `<svg>` elements carry no xmlns: inside HTML5 the parser puts them in the SVG namespace,
and the file then holds no URL at all.

Every function returns one `<svg>` element as text; values are drawn to scale from zero,
each bar carries a `<title>` (hover shows the exact figure) and all text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#2f6690", "#3a7d44", "#d1495b", "#edae49", "#6c4f86", "#00798c")
WIDTH, HEIGHT = 880, 300
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 34, 46


def _nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) covering `span` in about `ticks` steps."""
    raw = span / ticks if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10


def _legend(names: Sequence[str]) -> str:
    items, x = [], LEFT
    for index, name in enumerate(names):
        color = PALETTE[index % len(PALETTE)]
        items.append(
            f'<rect x="{x}" y="10" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 17}" y="20" font-size="12">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return "".join(items)


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    value_label: Callable[[float], str],
    max_value: float | None = None,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series; negative values go below zero."""
    values = [value for column in series.values() for value in column if value is not None]
    top = max([0.0, *values]) if max_value is None else max_value
    bottom = min([0.0, *values])
    step = _nice_step(top - bottom)
    top = step * -(-top // step) if top > 0 else 0.0
    bottom = step * (bottom // step) if bottom < 0 else 0.0
    span = (top - bottom) or 1.0
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + (top - value) / span * plot_height

    parts = [
        f'<svg role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" font-family="sans-serif"><title>{escape(title)}</title>',
        _legend(list(series)),
    ]
    tick = bottom
    while tick <= top + step / 2:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{escape(value_label(tick))}</text>"
        )
        tick += step
    group = plot_width / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    label_every = max(1, math.ceil(len(categories) / 12))  # at most 12 labels: they must not overlap
    for position, category in enumerate(categories):
        x0 = LEFT + position * group + group * 0.1
        for index, (name, column) in enumerate(series.items()):
            value = column[position]
            if value is None:
                continue
            y_top, y_bottom = sorted((y(value), y(0)))
            parts.append(
                f'<rect x="{x0 + index * bar:.1f}" y="{y_top:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{PALETTE[index % len(PALETTE)]}">'
                f"<title>{escape(f'{category} {name}: {value_label(value)}')}</title></rect>"
            )
        if position % label_every == 0:
            parts.append(
                f'<text x="{x0 + group * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" '
                f'text-anchor="middle">{escape(category)}</text>'
            )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#555"/></svg>')
    return "".join(parts)


def share_chart(title: str, labels: Sequence[str], values: Sequence[float], value_label: Callable[[float], str]) -> str:
    """Horizontal bars, one per label, with each value's share of the total written beside it."""
    total = sum(values)
    row, height = 30, TOP + 30 * max(len(labels), 1) + 10
    plot_width = WIDTH - 160 - 230
    largest = max(values, default=0) or 1
    parts = [
        f'<svg role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" font-family="sans-serif"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y0 = TOP + index * row
        share = value / total if total else 0.0
        text = f"{value_label(value)} ({share:.1%})"
        parts.append(
            f'<text x="150" y="{y0 + 17}" font-size="13" text-anchor="end">{escape(label)}</text>'
            f'<rect x="160" y="{y0 + 4}" width="{max(value / largest * plot_width, 0.5):.1f}" height="{row - 8}" '
            f'fill="{PALETTE[index % len(PALETTE)]}"><title>{escape(f"{label}: {text}")}</title></rect>'
            f'<text x="{166 + value / largest * plot_width:.1f}" y="{y0 + 17}" font-size="12">{escape(text)}</text>'
        )
    if not labels:
        parts.append(f'<text x="{LEFT}" y="{TOP + 17}" font-size="13">no succeeded payments in the period</text>')
    parts.append("</svg>")
    return "".join(parts)
