"""The pure parts of the supervision view: the audit log in words (action phrases, the diff
of before/after as changed fields) and the revenue chart's marks (supervision/bars.py)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ckanext.sanyi.supervision import audit_text, bars

NS = {"s": "http://www.w3.org/2000/svg"}


def test_actions_read_as_words_in_both_languages():
    assert audit_text.action_text("sanyi_revenue_cap_set") == "核定最高准许收入"
    assert audit_text.action_text("sanyi_revenue_cap_set", zh=False) == \
        "set the maximum allowed revenue"
    assert audit_text.action_text("sanyi_unheard_of") == "sanyi_unheard_of"
    assert audit_text.action_text("stripe:payment_intent.succeeded") == \
        "Stripe 通知：payment_intent.succeeded"
    assert audit_text.object_text("entitlement", zh=False) == "entitlement"
    for zh, en in [*audit_text.ACTIONS.values(), *audit_text.OBJECT_TYPES.values()]:
        assert zh and en and zh != en


def test_the_diff_lists_only_changed_fields():
    before = {"status": "active", "quota": 100, "schedule": {"unit": "call", "bands": [1]},
              "gone": "x"}
    after = {"status": "suspended", "quota": 100, "schedule": {"unit": "call", "bands": [2]},
             "reason": "超范围调用"}
    assert audit_text.diff(before, after) == [
        {"field": "status", "before": "active", "after": "suspended", "change": "changed"},
        {"field": "schedule.bands", "before": "[1]", "after": "[2]", "change": "changed"},
        {"field": "gone", "before": "x", "after": "", "change": "removed"},
        {"field": "reason", "before": "", "after": "超范围调用", "change": "added"}]
    assert audit_text.diff(None, {"a": 1}) == [
        {"field": "a", "before": "", "after": "1", "change": "added"}]
    assert audit_text.diff({"a": 1}, {"a": 1}) == []
    assert audit_text.diff(None, "plain") == [
        {"field": "value", "before": "", "after": "plain", "change": "added"}]


def test_an_entry_carries_its_words_and_changes():
    row = {"id": 1, "actor": "bureau_user", "action": "sanyi_product_return",
           "object_type": "product", "object_id": "p1", "before": {"status": "filed"},
           "after": {"status": "draft", "comment": "补充材料"}, "created": "2026-12-01T16:30:00+00:00"}
    entry = audit_text.entry(row, zh=True)
    assert (entry["what"], entry["object"]) == ("退回产品备案（改为草稿）", "产品")
    assert [c["field"] for c in entry["changes"]] == ["status", "comment"]


def test_the_revenue_chart_marks_80_and_100_percent():
    svg = bars.svg([bars.Bar("2026", 94.44, "94.44%", "warning"), bars.Bar("2025", 110, "", "exceeded")],
                   title="已收入占最高准许收入 <cap>", desc="预警线 80%", chart_id="r1",
                   marks=[bars.Mark(80, "80%"), bars.Mark(100, "100%", dashed=False)], top=120)
    root = ET.fromstring(svg)  # well-formed: the title's < is escaped
    assert root.find("s:title", NS).text == "已收入占最高准许收入 <cap>"
    rows = root.findall(".//s:g[@class='sanyi-bar']", NS)
    assert [(g.get("data-key"), g.get("data-value")) for g in rows] == \
        [("warning", "94.44"), ("exceeded", "110")]
    widths = [float(g.find("s:rect", NS).get("width")) for g in rows]
    marks = root.findall(".//s:g[@class='sanyi-bar-mark']", NS)
    xs = [float(m.find("s:line", NS).get("x1")) for m in marks]
    assert [m.get("data-value") for m in marks] == ["80", "100"]
    assert bars.LABEL_W + widths[0] < xs[1] < bars.LABEL_W + widths[1]  # 94 % short of 100 %
    assert xs[0] < bars.LABEL_W + widths[0]  # past the warning mark
    assert marks[0].find("s:line", NS).get("stroke-dasharray") and \
        not marks[1].find("s:line", NS).get("stroke-dasharray")
