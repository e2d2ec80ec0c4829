"""The portal's one way of drawing charts: server-rendered SVG written into the page.

No script and no CDN (the portal runs on closed networks); the same markup prints, and
WeasyPrint draws it in a PDF. Readable in black and white: the first series is solid dark
grey, the second white with a hatch and an outline, the third light grey with an outline.
Each chart says what it shows in its ``<title>``/``<desc>``, each bar in its tooltip, and
carries its figures as ``data-*`` attributes. Pure: no CKAN import.

* :func:`nice_top`: the top of a count axis (1, 2 or 5 × 10ⁿ).
* :func:`hbars`: horizontal bars, one group per label, one bar per series (reports).
* :mod:`..delivery.usage_chart` draws the calls per day (vertical stacked bars) with
  :func:`nice_top` and :data:`FILLS`.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["nice_top", "hbars", "FILLS", "hatch_pattern"]

FILLS = ("#333", "url(#{hatch})", "#bbb")



def _cjk(text: str) -> bool:
    """Is ``text`` Chinese (then its punctuation is full-width, otherwise ASCII)?"""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _colon(text: str) -> str:
    return "：" if _cjk(text) else ": "

def nice_top(value: int) -> int:
    """The axis' top: 1, 2 or 5 × 10ⁿ at or above ``value`` (at least 5)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= max(value, 5):
                return step * top
        top *= 10


def hatch_pattern(pattern_id: str) -> str:
    """The ``<pattern>`` of the second series (diagonal hatch on white)."""
    return (f'<pattern id="{escape(pattern_id)}" width="4" height="4" '
            f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="4" height="4" fill="#fff"/>'
            f'<line x1="0" y1="0" x2="0" y2="4" stroke="#333" stroke-width="1.5"/></pattern>')


def _fill(index: int, hatch: str) -> tuple[str, str]:
    fill = FILLS[index % len(FILLS)].format(hatch=escape(hatch))
    stroke = "" if index == 0 else ' stroke="#000" stroke-width="0.8"'
    return fill, stroke


def _short(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def hbars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *,
          title: str, chart_id: str, width: int = 640, empty: str = "—") -> str:
    """Horizontal bars: for each of ``labels`` a group of one bar per ``(name, values)`` of
    ``series`` (values are counts, one per label), a legend with each series' total."""
    label_w, right, top_pad, bar_h, gap = 150, 56, 24, 12, 10
    n = max(len(series), 1)
    group_h = n * bar_h + gap
    height = top_pad + max(len(labels), 1) * group_h + 28
    largest = max((v for _, values in series for v in values), default=0)
    top = nice_top(largest)
    plot_w = width - label_w - right
    hatch = f"{chart_id}-hatch"
    totals = [sum(values) for _, values in series]
    names = " ".join(name for name, _ in series)
    desc = ("；" if _cjk(names) else "; ").join(
        f"{name} {total:,}" for (name, _), total in zip(series, totals, strict=True))
    cid = escape(chart_id)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sanyi-chart" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
             f'aria-labelledby="{cid}-title {cid}-desc" data-labels="{len(labels)}" '
             f'data-totals="{",".join(str(t) for t in totals)}" '
             f'font-family="\'Noto Sans CJK SC\', sans-serif" font-size="11">',
             f'<title id="{cid}-title">{escape(title)}</title>',
             f'<desc id="{cid}-desc">{escape(desc)}</desc>',
             f'<defs>{hatch_pattern(hatch)}</defs>']
    for i in range(5):
        x = label_w + plot_w * i / 4
        parts.append(f'<line x1="{x:.1f}" y1="{top_pad - 4}" x2="{x:.1f}" '
                     f'y2="{height - 26}" stroke="#ccc" stroke-width="{1.5 if i == 0 else 1}"/>'
                     f'<text x="{x:.1f}" y="{top_pad - 8}" text-anchor="middle" fill="#000">'
                     f'{top * i // 4:,}</text>')
    if not labels:
        parts.append(f'<text x="{label_w + 8}" y="{top_pad + 14}" fill="#000">'
                     f'{escape(empty)}</text>')
    for row, label in enumerate(labels):
        y0 = top_pad + row * group_h
        parts.append(f'<text x="{label_w - 6}" y="{y0 + n * bar_h / 2 + 4:.1f}" '
                     f'text-anchor="end" fill="#000"><title>{escape(label)}</title>'
                     f'{escape(_short(label))}</text>')
        for s, (name, values) in enumerate(series):
            value = int(values[row]) if row < len(values) else 0
            w = plot_w * value / top
            fill, stroke = _fill(s, hatch)
            y = y0 + s * bar_h
            parts.append(f'<g class="sanyi-chart-bar" data-label="{escape(label)}" '
                         f'data-series="{escape(name)}" data-value="{value}">'
                         f'<title>{escape(f"{label}{_colon(label + name)}{name} {value:,}")}</title>')
            if value:
                parts.append(f'<rect x="{label_w}" y="{y:.1f}" width="{max(w, 1.0):.1f}" '
                             f'height="{bar_h - 2}" fill="{fill}"{stroke}/>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3:.1f}" '
                         f'fill="#000">{value:,}</text></g>')
    x = label_w
    for s, ((name, _), total) in enumerate(zip(series, totals, strict=True)):
        fill, stroke = _fill(s, hatch)
        parts.append(f'<rect x="{x}" y="{height - 18}" width="10" height="10" '
                     f'fill="{fill}"{stroke}/><text x="{x + 14}" y="{height - 9}" '
                     f'fill="#000">{escape(name)} {total:,}</text>')
        x += 130
    parts.append("</svg>")
    return "".join(parts)
