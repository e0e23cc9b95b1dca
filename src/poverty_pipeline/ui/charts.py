"""Inline SVG charts drawn on the server: no script and no CDN, so they show offline and print.

Each chart is an ``<svg role="img">`` with a title and a description; the page puts a table of
the same figures beside it for screen readers and for copying. Colours are the Okabe–Ito
palette (distinguishable with colour-vision deficiency), and series also differ by marker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
TARGET_COLOUR = "#D55E00"
MARKERS = ("circle", "square", "diamond", "triangle")
FONT = "font-family='system-ui, sans-serif'"


@dataclass
class Series:
    label: str
    values: dict[object, float | None]  # category (a year, a commune) → value
    colour: str = PALETTE[0]
    marker: str = MARKERS[0]
    dashed: bool = False  # a second measure of the same standard (near-poor beside poor)


@dataclass
class Target:
    value: float
    label: str


@dataclass
class Flow:
    """One row of a diverging bar chart: segments left of zero (out) and right of it (in)."""

    label: str
    out: list[tuple[str, float]] = field(default_factory=list)
    into: list[tuple[str, float]] = field(default_factory=list)
    note: str = ""


def nice_ticks(value: float, most: int = 5) -> list[float]:
    """Axis ticks from 0 in a round step (1, 2 or 5 × 10^k) covering ``value`` in at
    most ``most`` intervals: 0,62 is never a tick, 0,5 and 1 are."""
    if value <= 0:
        return [0.0, 1.0]
    raw = value / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw - 1e-12)
    count = max(1, math.ceil(value / step - 1e-9))
    return [round(step * k, 10) for k in range(count + 1)]


def shared_max(series_sets: Sequence[Sequence[Series]], floor: float = 0.0) -> float:
    """One axis end for a set of small charts (so their panels compare at a glance)."""
    values = [v for series in series_sets for s in series for v in s.values.values() if v is not None]
    return nice_ticks(max([*values, floor, 0]) * 1.05)[-1]


def _fmt(value: float, digits: int = 2) -> str:
    """Vietnamese separators, no trailing zeros: 1.50 → 1,5; 12500 → 12.500."""
    text = f"{value:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "middle", extra: str = "",
          fill: str = "#222") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' {FONT}"
            f" fill='{fill}' {extra}>{escape(text)}</text>")


def _heading(width: float, title: str) -> str:
    """A chart's heading, cut to the chart's width (the full title stays the svg's title)."""
    fits = max(10, int((width - 8) / 6.6))
    text = title if len(title) <= fits else title[: fits - 1] + "…"
    return _text(width / 2, 15, text, 12, extra="font-weight='600'")


def _marker(kind: str, x: float, y: float, colour: str, tip: str) -> str:
    title = f"<title>{escape(tip)}</title>"
    if kind == "square":
        return (f"<rect x='{x - 3.5:.1f}' y='{y - 3.5:.1f}' width='7' height='7' fill='{colour}'>"
                f"{title}</rect>")
    if kind == "diamond":
        pts = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f"<polygon points='{pts}' fill='{colour}'>{title}</polygon>"
    if kind == "triangle":
        pts = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
        return f"<polygon points='{pts}' fill='{colour}'>{title}</polygon>"
    return f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{colour}'>{title}</circle>"


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    return Markup(
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' width='{width}' height='{height}'"
        f" viewBox='0 0 {width} {height}' class='chart'>"
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def legend(series: Sequence[Series], target: Target | None = None) -> Markup:
    """A legend shared by a set of small charts (HTML, so it wraps)."""
    items = []
    for s in series:
        dash = " stroke-dasharray='2 3'" if s.dashed else ""
        swatch = _svg(24, 14, s.label, s.label, [
            f"<line x1='0' x2='24' y1='7' y2='7' stroke='{s.colour}' stroke-width='2'{dash}/>",
            _marker(s.marker, 12, 7, s.colour, s.label)])
        items.append(f"<span class='legend-item'>{swatch} {escape(s.label)}</span>")
    if target:
        line = _svg(24, 14, target.label, target.label, [
            f"<line x1='0' x2='24' y1='7' y2='7' stroke='{TARGET_COLOUR}' stroke-width='2'"
            " stroke-dasharray='5 3'/>"])
        items.append(f"<span class='legend-item'>{line} {escape(target.label)}</span>")
    return Markup(f"<div class='legend'>{''.join(items)}</div>")


def line_chart(title: str, categories: Sequence[object], series: Sequence[Series],
               target: Target | None = None, y_max: float | None = None, unit: str = "%",
               width: int = 300, height: int = 190) -> Markup:
    """Values (already in ``unit``) over ``categories`` (years), one line per series, with a
    dashed target line."""
    left, right, top, bottom = 44, 12, 26, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values.values() if v is not None]
    ticks = nice_ticks(y_max or max([*values, target.value if target else 0, 0]) * 1.05)
    top_value = ticks[-1]
    n = max(len(categories), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h * (1 - min(v, top_value) / top_value)

    body = [_heading(width, title)]
    for v in ticks:  # gridlines and y labels
        body.append(f"<line x1='{left}' x2='{width - right}' y1='{y(v):.1f}' y2='{y(v):.1f}'"
                    " stroke='#ddd' stroke-width='1'/>")
        body.append(_text(left - 5, y(v) + 4, f"{_fmt(v)}{unit}", 10, "end"))
    for i, c in enumerate(categories):
        body.append(_text(x(i), height - 8, str(c), 10))
    if target:
        body.append(f"<line x1='{left}' x2='{width - right}' y1='{y(target.value):.1f}'"
                    f" y2='{y(target.value):.1f}' stroke='{TARGET_COLOUR}' stroke-width='2'"
                    f" stroke-dasharray='5 3'><title>{escape(target.label)}</title></line>")
    for s in series:
        points = [(x(i), y(s.values[c]), c, s.values[c]) for i, c in enumerate(categories)
                  if s.values.get(c) is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
            dash = " stroke-dasharray='2 3'" if s.dashed else ""
            body.append(f"<polyline points='{path}' fill='none' stroke='{s.colour}' stroke-width='2'{dash}/>")
        for px, py, c, v in points:
            body.append(_marker(s.marker, px, py, s.colour, f"{s.label}, {c}: {_fmt(v)}{unit}"))
    desc = "; ".join(
        f"{s.label}: " + ", ".join(f"{c} {_fmt(v)}{unit}" for c, v in s.values.items() if v is not None)
        for s in series)
    return _svg(width, height, title, desc, body)


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series],
              target: Target | None = None, unit: str = "%", width: int = 640) -> Markup:
    """Horizontal grouped bars, one group per category (an area), one bar per series."""
    label_w, right, top, bar_h, gap = 190, 50, 30, 9, 8
    group_h = bar_h * len(series) + gap
    height = top + group_h * len(categories) + 24
    plot_w = width - label_w - right
    values = [v for s in series for v in s.values.values() if v is not None]
    ticks = nice_ticks(max([*values, target.value if target else 0, 0]) * 1.05)
    top_value = ticks[-1]

    def x(v: float) -> float:
        return label_w + plot_w * min(v, top_value) / top_value

    body = [_heading(width, title)]
    bottom = top + group_h * len(categories)
    for v in ticks:
        body.append(f"<line x1='{x(v):.1f}' x2='{x(v):.1f}' y1='{top}' y2='{bottom}' stroke='#ddd'/>")
        body.append(_text(x(v), bottom + 14, f"{_fmt(v)}{unit}", 10))
    for i, c in enumerate(categories):
        y0 = top + i * group_h
        body.append(_text(label_w - 6, y0 + group_h / 2 + 2, c, 10, "end"))
        for j, s in enumerate(series):
            v = s.values.get(c)
            if v is None:
                continue
            body.append(
                f"<rect x='{label_w}' y='{y0 + j * bar_h:.1f}' width='{x(v) - label_w:.1f}'"
                f" height='{bar_h - 1}' fill='{s.colour}'><title>{escape(f'{c}, {s.label}: {_fmt(v)}{unit}')}"
                "</title></rect>")
    if target:
        body.append(f"<line x1='{x(target.value):.1f}' x2='{x(target.value):.1f}' y1='{top}'"
                    f" y2='{bottom}' stroke='{TARGET_COLOUR}' stroke-width='2' stroke-dasharray='5 3'>"
                    f"<title>{escape(target.label)}</title></line>")
    desc = "; ".join(
        f"{c}: " + ", ".join(f"{s.label} {_fmt(s.values[c])}{unit}" for s in series
                             if s.values.get(c) is not None) for c in categories)
    return _svg(width, height, title, desc, body)


def diverging_bars(title: str, rows: Sequence[Flow], colours: dict[str, str], width: int = 640,
                   names: dict[str, str] | None = None) -> Markup:
    """Stacked bars out of (left of zero) and into (right of zero) a state, one row each;
    ``names`` words each segment's code in tooltips and the description."""
    names = names or {}
    label_w, right, top, row_h = 70, 20, 30, 26
    height = top + row_h * len(rows) + 26
    plot_w = width - label_w - right
    ticks = nice_ticks(max([1.0] + [max(sum(v for _, v in r.out), sum(v for _, v in r.into))
                                     for r in rows]), most=3)
    extent = ticks[-1]
    zero = label_w + plot_w / 2
    scale = (plot_w / 2) / extent
    body = [_heading(width, title)]
    bottom = top + row_h * len(rows)
    for v in sorted({-t for t in ticks} | set(ticks)):
        gx = zero + v * scale
        body.append(f"<line x1='{gx:.1f}' x2='{gx:.1f}' y1='{top}' y2='{bottom}' stroke='#ddd'/>")
        body.append(_text(gx, bottom + 14, _fmt(abs(v), 0), 10))
    for i, r in enumerate(rows):
        y0 = top + i * row_h + 4
        body.append(_text(label_w - 6, y0 + 13, r.label, 11, "end"))
        if r.note:  # a row with nothing to draw says why (a first review: nothing to compare)
            body.append(_text(label_w + 6, y0 + 13, r.note, 10, "start", fill="#5b6670"))
        for segments, sign in ((r.out, -1), (r.into, 1)):
            pos = zero
            for name, v in segments:
                if not v:
                    continue
                w = v * scale
                x0 = pos - w if sign < 0 else pos
                body.append(f"<rect x='{x0:.1f}' y='{y0}' width='{w:.1f}' height='{row_h - 8}'"
                            f" fill='{colours[name]}' stroke='#fff' stroke-width='0.5'>"
                            f"<title>{escape(f'{r.label}: {names.get(name, name)} {_fmt(v, 0)}')}"
                            "</title></rect>")
                pos = x0 if sign < 0 else pos + w
    body.append(f"<line x1='{zero:.1f}' x2='{zero:.1f}' y1='{top}' y2='{bottom}' stroke='#333'/>")
    desc = "; ".join(f"{r.label}: "
                     + ", ".join(f"{names.get(n, n)} {_fmt(v, 0)}" for n, v in [*r.out, *r.into])
                     + (f" ({r.note})" if r.note else "") for r in rows)
    return _svg(width, height, title, desc, body)


def heatmap(title: str, rows: Sequence[str], columns: Sequence[str],
            cells: dict[tuple[str, str], tuple[float | None, str]], width: int | None = None) -> Markup:
    """A grid of rows × columns; a cell's fill shows a 0–1 share (grey: nothing to show) and
    its text the figure behind it."""
    label_w, top, cell_w, cell_h = 300, 40, 64, 22
    width = width or label_w + cell_w * len(columns) + 10
    height = top + cell_h * len(rows) + 10
    body = [_heading(width, title)]
    for j, c in enumerate(columns):
        body.append(_text(label_w + cell_w * (j + 0.5), top - 6, c, 11, extra="font-weight='600'"))
    for i, r in enumerate(rows):
        y0 = top + i * cell_h
        body.append(_text(label_w - 6, y0 + 15, r, 10, "end"))
        for j, c in enumerate(columns):
            if (r, c) not in cells:
                continue
            share, text = cells[(r, c)]
            fill = "#eeeeee" if share is None else _green(share)
            ink = "#fff" if share is not None and share > 0.6 else "#222"
            x0 = label_w + j * cell_w
            body.append(f"<rect x='{x0 + 1}' y='{y0 + 1}' width='{cell_w - 2}' height='{cell_h - 2}'"
                        f" fill='{fill}'><title>{escape(f'{r} · {c}: {text}')}</title></rect>")
            body.append(_text(x0 + cell_w / 2, y0 + 15, text, 10, fill=ink))
    desc = "; ".join(f"{r} {c}: {cells[(r, c)][1]}" for r in rows for c in columns if (r, c) in cells)
    return _svg(width, height, title, desc, body)


def _green(share: float) -> str:
    """White (0) to dark green (1)."""
    share = max(0.0, min(1.0, share))
    low, high = (0xF2, 0xF8, 0xF2), (0x00, 0x6D, 0x3C)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"
