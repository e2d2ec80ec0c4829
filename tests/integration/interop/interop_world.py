"""The world of the DCAT and harvest tests (no tests here): seven public catalog resources of
two units (one with a field list, notes, tags and all three delivery methods; one with no notes,
a realtime cycle and 无条件开放), one private resource, an approved product drawing on two
resources and a draft (private) one; helpers to fetch the RDF endpoints and parse them."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ckan.tests import factories, helpers

from ckanext.sanyi.common import clock

TODAY = clock.today()
PUBLIC = ["hypertension", "insured", "outpatient", "drug-circulation", "inpatient",
          "immunization", "chronic-followup"]
PRIVATE = ["unpublished-draft"]


def _days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def _resource(user: str, org: str, name: str, title: str, **extra: Any) -> dict[str, Any]:
    data = dict(name=name, title=title, owner_org=org, domain="health",
                delivery_methods=["api"], update_cycle="monthly", grade_level="L3",
                open_attribute="authorized", last_updated=_days_ago(3))
    data.update(extra)
    return helpers.call_action("package_create", context={"user": user}, **data)


def build(sanyi_orgs: dict[str, Any]) -> dict[str, Any]:
    factories.Sysadmin(name="interop_admin")
    made = {
        "hypertension": _resource(
            "wj_editor", "shi-wei-jian-wei", "hypertension", "高血压患者健康管理数据",
            notes="辖区高血压患者随访管理记录。", delivery_methods=["api", "table", "file"],
            update_cycle="monthly", grade_level="L3", open_attribute="authorized",
            last_updated=_days_ago(5), batch="第一批", sample_available="yes",
            tag_string="慢病,随访",
            data_fields=[{"field_name": "患者编号", "field_type": "code", "sensitive": "yes"},
                         {"field_name": "随访日期", "field_type": "date", "sensitive": "no"},
                         {"field_name": "收缩压", "field_type": "integer", "sensitive": "no"}]),
        "insured": _resource(
            "yb_editor", "shi-yi-bao-ju", "insured", "医保参保人员", domain="insurance",
            update_cycle="realtime", grade_level="L2", open_attribute="open",
            delivery_methods=["table"]),
        "unpublished-draft": _resource(
            "wj_editor", "shi-wei-jian-wei", "unpublished-draft", "未公开的内部草稿资源",
            private=True),
    }
    for i, (name, title) in enumerate([("outpatient", "门诊就诊记录数据"),
                                       ("drug-circulation", "市场流通药品相关数据"),
                                       ("inpatient", "住院结算数据"),
                                       ("immunization", "预防接种记录"),
                                       ("chronic-followup", "慢性病随访数据")]):
        made[name] = _resource("wj_editor", "shi-wei-jian-wei", name, title,
                               update_cycle=["daily", "weekly", "quarterly", "yearly",
                                             "irregular"][i])
    product = dict(type="product", owner_org="san-yi-yun-ying", product_forms=["api"],
                   supplying_units=["shi-wei-jian-wei", "shi-yi-bao-ju"],
                   source_resources=["hypertension", "insured"])
    made["chronic-refill"] = helpers.call_action(
        "package_create", context={"ignore_auth": True, "user": "interop_admin"},
        **product, name="chronic-refill", title="慢病线上开处方", category="industrial",
        scenario="慢病线上开处方", notes="为慢病患者提供网上续方购药服务。", status="approved")
    made["not-listed"] = helpers.call_action(
        "package_create", context={"ignore_auth": True, "user": "interop_admin"},
        **product, name="not-listed", title="未上架产品", category="industrial",
        scenario="未上架", status="draft")
    return {"made": made, **sanyi_orgs}


def graph(app, url: str, fmt: str = "turtle", status: int = 200, **kw: Any):
    """The RDF document at ``url``, parsed (after checking the status)."""
    import rdflib
    res = app.get(url, **kw)
    assert res.status_code == status, (url, res.status_code, res.body[:500])
    return rdflib.Graph().parse(data=res.body, format=fmt), res


def uri(package: dict[str, Any]) -> str:
    return f"http://127.0.0.1:5000/dataset/{package['id']}"
