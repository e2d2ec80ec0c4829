"""Horizontal bars with vertical marks across them, as server-rendered SVG: the revenue
against the cap with its warning mark (80 % unless the bureau set another) and 100 %, which
:func:`..common.charts.hbars` (the portal's charts, used for the view's other figures) does
not draw. The same manner: no script, no CDN; dark grey bars that print in black and white;
a ``<title>``/``<desc>`` saying what the chart shows, a tooltip and ``data-*`` figures on
each bar. Pure: no CKAN import.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "Mark", "svg"]

WIDTH = 640
LABEL_W, RIGHT, TOP, ROW_H = 190, 70, 26, 26


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value, the text shown after it, a key, and more for its tooltip."""

    label: str
    value: float
    text: str = ""
    key: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Mark:
    """A vertical line across the bars at ``value`` (on the bars' scale), labelled."""

    value: float
    label: str
    dashed: bool = True


def _top(values: Sequence[float], marks: Sequence[Mark]) -> float:
    top = max([*values, *(m.value for m in marks), 0.0])
    if top <= 0:
        return 1.0
    step = 1.0
    while step * 10 < top:
        step *= 10
    for k in (1, 2, 5, 10):
        if k * step >= top:
            return k * step
    return top


def svg(bars: Sequence[Bar], *, title: str, desc: str, chart_id: str,
        marks: Sequence[Mark] = (), top: float | None = None) -> str:
    """The chart of ``bars`` as an ``<svg>`` element (text). ``top`` is the scale's end
    (default: a round number at or above the largest value or mark)."""
    scale = top if top is not None and top > 0 else _top([b.value for b in bars], marks)
    plot_w = WIDTH - LABEL_W - RIGHT
    height = TOP + ROW_H * max(len(bars), 1) + 18
    cid = escape(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sanyi-bar-chart" role="img" '
        f'id="{cid}" viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px" '
        f'aria-labelledby="{cid}-title {cid}-desc" font-family="\'Noto Sans CJK SC\', sans-serif" font-size="11">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
        f'<text x="0" y="14" fill="#000" font-weight="bold">{escape(title)}</text>',
    ]
    base = TOP + ROW_H * max(len(bars), 1)
    parts.append(f'<line x1="{LABEL_W}" y1="{TOP - 4}" x2="{LABEL_W}" y2="{base}" '
                 f'stroke="#000" stroke-width="1"/>')
    for i, bar in enumerate(bars):
        y = TOP + ROW_H * i
        w = max(0.0, min(1.15, bar.value / scale)) * plot_w
        shown = f"{bar.label}{bar.text or bar.value}{bar.detail or ''}"
        zh = any("\u4e00" <= ch <= "\u9fff" for ch in shown)  # Chinese or ASCII punctuation
        tip = f"{bar.label}{'：' if zh else ': '}{bar.text or bar.value}" + (
            (f"（{bar.detail}）" if zh else f" ({bar.detail})") if bar.detail else "")
        parts.append(f'<g class="sanyi-bar" data-key="{escape(bar.key)}" '
                     f'data-value="{bar.value:g}"><title>{escape(tip)}</title>')
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" fill="#000">'
                     f'{escape(bar.label)}</text>')
        if w > 0:
            parts.append(f'<rect x="{LABEL_W}" y="{y + 4}" width="{w:.1f}" height="{ROW_H - 8}" '
                         f'fill="#333"/>')
        parts.append(f'<text x="{LABEL_W + w + 4:.1f}" y="{y + 15}" fill="#000">'
                     f'{escape(bar.text or f"{bar.value:g}")}</text></g>')
    for mark in marks:
        x = LABEL_W + min(1.15, mark.value / scale) * plot_w
        dash = ' stroke-dasharray="4 3"' if mark.dashed else ""
        parts.append(f'<g class="sanyi-bar-mark" data-value="{mark.value:g}">'
                     f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{base + 2}" '
                     f'stroke="#000" stroke-width="1.5"{dash}/>'
                     f'<text x="{x:.1f}" y="{base + 14}" text-anchor="middle" fill="#000">'
                     f'{escape(mark.label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
