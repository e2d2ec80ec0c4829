"""The usage chart (delivery/usage_chart.py, pure): every day of the span, missing days as 0,
bars and tooltips carrying the figures, an axis top that holds the largest day, escaped text,
Chinese or English labels, no script."""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from ckanext.sanyi.delivery.usage_chart import _nice_top, daily_series, svg

END = dt.date(2026, 12, 1)


def test_daily_series_covers_every_day_and_adds_rows_of_one_day():
    rows = [{"day": "2026-12-01", "granted": 3, "refused": 1},
            {"day": "2026-12-01", "granted": 2, "refused": 0},
            {"day": "2026-11-02", "granted": 7, "refused": 0},
            {"day": "2026-10-01", "granted": 9, "refused": 9}]  # before the span: left out
    series = daily_series(rows, END, 30)
    assert len(series) == 30 and series[0][0] == dt.date(2026, 11, 2) and series[-1][0] == END
    assert series[-1] == (END, 5, 1) and series[0] == (dt.date(2026, 11, 2), 7, 0)
    assert sum(g + r for _, g, r in series[1:-1]) == 0


def test_svg_is_well_formed_and_carries_the_figures():
    series = daily_series([{"day": "2026-12-01", "granted": 1234, "refused": 56}], END, 30)
    text = svg(series, chart_id="u<1>")
    root = ET.fromstring(text)
    assert root.tag.endswith("svg") and root.get("data-granted") == "1234"
    assert "<script" not in text and "u&lt;1&gt;-title" in text
    bars = re.findall(r'data-day="([\d-]+)" data-granted="(\d+)" data-refused="(\d+)"', text)
    assert len(bars) == 30 and bars[-1] == ("2026-12-01", "1234", "56")
    assert "2026-12-01：放行 1,234 次，拒绝 56 次" in text and "调用次数" in text
    english = svg(series, zh=False)
    assert "2026-12-01: 1,234 granted, 56 refused" in english and "Calls per day" in english
    assert "调用" not in english


def test_the_axis_holds_the_largest_day():
    assert [_nice_top(n) for n in (0, 3, 5, 6, 11, 20, 21, 1290)] == [5, 5, 5, 10, 20, 20, 50, 2000]
    empty = svg(daily_series([], END, 30))
    assert "放行 0" in empty
    assert not re.search(r'class="sanyi-usage-day"[^>]*><title>[^<]*</title><rect', empty)
