"""A usage chart as server-rendered SVG: calls per day, granted and refused, stacked bars.

No script and no CDN (the portal runs on closed networks): the SVG is written into the page.
It prints readably in black and white (granted bars solid dark grey, refused bars white
with a hatch and an outline), says what it shows in its ``<title>``/``<desc>`` and in each
bar's tooltip, and carries the figures as ``data-*`` attributes. Labels are Chinese, or
English with ``zh=False``. Pure: no CKAN import. Axis and hatch from :mod:`..common.charts`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from ..common import charts

__all__ = ["daily_series", "svg"]

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 40


def daily_series(rows: Iterable[Mapping[str, Any]], end: dt.date,
                 days: int = 30) -> list[tuple[dt.date, int, int]]:
    """``(day, granted, refused)`` for each of the ``days`` days up to ``end`` (inclusive),
    from rows ``{"day": "YYYY-MM-DD", "granted", "refused"}``; days without rows are 0."""
    found: dict[dt.date, tuple[int, int]] = {}
    for row in rows:
        day = dt.date.fromisoformat(str(row["day"]))
        granted, refused = found.get(day, (0, 0))
        found[day] = (granted + int(row.get("granted") or 0), refused + int(row.get("refused") or 0))
    start = end - dt.timedelta(days=days - 1)
    return [(d, *found.get(d, (0, 0)))
            for d in (start + dt.timedelta(days=i) for i in range(days))]


_nice_top = charts.nice_top  # the portal's one charting module (common/charts.py)


def svg(series: list[tuple[dt.date, int, int]], *, zh: bool = True, chart_id: str = "usage") -> str:
    """The chart of ``series`` (see :func:`daily_series`) as an ``<svg>`` element (text)."""
    t = (lambda c, e: c) if zh else (lambda c, e: e)
    granted_total = sum(g for _, g, _ in series)
    refused_total = sum(r for _, _, r in series)
    top = _nice_top(max((g + r for _, g, r in series), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(series), 1)
    bar_w = max(2.0, slot * 0.7)
    first = series[0][0].isoformat() if series else ""
    last = series[-1][0].isoformat() if series else ""
    title = t(f"每日调用次数（{first} 至 {last}）", f"Calls per day ({first} to {last})")
    desc = t(f"放行 {granted_total:,} 次，拒绝 {refused_total:,} 次",
             f"{granted_total:,} granted, {refused_total:,} refused")
    hatch = f"{escape(chart_id)}-refused"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sanyi-usage-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'data-granted="{granted_total}" data-refused="{refused_total}" '
        f'font-family="sans-serif" font-size="11">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
        f'<defs>{charts.hatch_pattern(hatch)}</defs>',
    ]
    for i in range(5):  # horizontal grid lines and the count axis
        value = top * i // 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     f'stroke="#ccc" stroke-width="{1 if i else 1.5}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#000">'
                     f'{value:,}</text>')
    parts.append(f'<text x="{LEFT}" y="14" fill="#000">{escape(t("调用次数", "Calls"))}</text>')
    for i, (day, granted, refused) in enumerate(series):
        x = LEFT + slot * i + (slot - bar_w) / 2
        g_h = plot_h * granted / top
        r_h = plot_h * refused / top
        base = TOP + plot_h
        tip = t(f"{day.isoformat()}：放行 {granted:,} 次，拒绝 {refused:,} 次",
                f"{day.isoformat()}: {granted:,} granted, {refused:,} refused")
        parts.append(f'<g class="sanyi-usage-day" data-day="{day.isoformat()}" '
                     f'data-granted="{granted}" data-refused="{refused}"><title>{escape(tip)}</title>')
        if granted:
            parts.append(f'<rect x="{x:.1f}" y="{base - g_h:.1f}" width="{bar_w:.1f}" '
                         f'height="{g_h:.1f}" fill="#333"/>')
        if refused:
            parts.append(f'<rect x="{x:.1f}" y="{base - g_h - r_h:.1f}" width="{bar_w:.1f}" '
                         f'height="{r_h:.1f}" fill="url(#{hatch})" stroke="#000" '
                         f'stroke-width="0.8"/>')
        parts.append("</g>")
        if i % 5 == 0 or i == len(series) - 1:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                         f'fill="#000">{day.strftime("%m-%d")}</text>')
    legend_y = HEIGHT - 8
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 9}" width="10" height="10" fill="#333"/>'
                 f'<text x="{LEFT + 14}" y="{legend_y}" fill="#000">'
                 f'{escape(t("放行", "Granted"))} {granted_total:,}</text>'
                 f'<rect x="{LEFT + 110}" y="{legend_y - 9}" width="10" height="10" '
                 f'fill="url(#{hatch})" stroke="#000" stroke-width="0.8"/>'
                 f'<text x="{LEFT + 124}" y="{legend_y}" fill="#000">'
                 f'{escape(t("拒绝", "Refused"))} {refused_total:,}</text>')
    parts.append("</svg>")
    return "".join(parts)
