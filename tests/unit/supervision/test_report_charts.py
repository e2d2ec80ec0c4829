"""The portal's SVG charts (common/charts.py): readable without colour, figures kept, text
escaped, and the usage chart drawn with the same axis."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ckanext.sanyi.common import charts
from ckanext.sanyi.delivery import usage_chart

NS = {"s": "http://www.w3.org/2000/svg"}


def test_nice_top():
    assert [charts.nice_top(v) for v in (0, 5, 6, 11, 20, 21, 499, 501)] == \
        [5, 5, 10, 20, 20, 50, 500, 1000]
    assert usage_chart._nice_top is charts.nice_top


def test_hbars_draws_each_bar_and_total():
    svg = charts.hbars(["慢病线上开处方", "智慧核保 <tiered> & more"],
                       [("放行", [7, 3]), ("拒绝", [2, 0])], title="按产品的调用次数",
                       chart_id="c1")
    root = ET.fromstring(svg)  # well-formed: the label's < and & are escaped
    assert root.get("data-totals") == "10,2"
    bars = root.findall(".//s:g[@class='sanyi-chart-bar']", NS)
    assert [(b.get("data-series"), b.get("data-value")) for b in bars] == [
        ("放行", "7"), ("拒绝", "2"), ("放行", "3"), ("拒绝", "0")]
    assert root.find("s:title", NS).text == "按产品的调用次数"
    # the second series is hatched with an outline: readable in black and white
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") ==
             "url(#c1-hatch)"]
    assert rects and all(r.get("stroke") == "#000" for r in rects)
    assert "<script" not in svg and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_hbars_without_rows_says_so():
    svg = charts.hbars([], [("调用次数", [])], title="t", chart_id="e", empty="无数据")
    assert "无数据" in svg and ET.fromstring(svg).get("data-labels") == "0"
