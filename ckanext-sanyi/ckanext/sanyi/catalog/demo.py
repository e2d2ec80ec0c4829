"""Demo data: the real first batch (catalog + products), the bureau, the operator, accounts.

Idempotent: organisations, users and memberships are created when missing, the catalog
goes through the importer (which skips unchanged rows) and products are created or
patched by their stable names. Demo dates are relative to today so that some resources are
overdue and others current, as a data unit would see them.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import tempfile
from typing import Callable

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..common import clock, roles
from ..common.user import site_user_name
from ..delivery import demo as domain_demo
from . import importer, units

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")  # the package's data/

# (user name, password, full name, organisation or None, role in it, sysadmin)
ACCOUNTS = [
    ("admin", "Sanyi-admin-2026", "平台管理员 Platform admin", None, None, True),
    ("bureau", "Sanyi-bureau-2026", "市数据局 审核员 Bureau reviewer", "bureau", "admin", False),
    ("operator", "Sanyi-operator-2026", "运营机构 产品经理 Operator", "operator", "editor", False),
    ("weijian", "Sanyi-weijian-2026", "市卫健委 数据专员 Health commission editor",
     "市卫健委", "editor", False),
    ("yibao", "Sanyi-yibao-2026", "市医保局 数据专员 Insurance bureau editor",
     "市医保局", "editor", False),
    ("merchant", "Sanyi-merchant-2026", "健康保险科技有限公司 Merchant", None, None, False),
]
CATEGORY = {"产业/行业发展": "industrial", "公共治理/公益事业": "public_interest"}
FORMS = {"数据集": "dataset", "API接口": "api"}


def _ensure_org(name: str, title: str, description: str, user: str) -> None:
    if model.Group.get(name) is None:
        tk.get_action("organization_create")({"user": user, "ignore_auth": True},
                                             {"name": name, "title": title,
                                              "description": description})


def _ensure_user(name: str, password: str, fullname: str, sysadmin: bool) -> model.User:
    user = model.User.get(name)
    if user is None:
        tk.get_action("user_create")({"ignore_auth": True}, {
            "name": name, "password": password, "fullname": fullname,
            "email": f"{name}@sanyi.example.cn"})
        user = model.User.get(name)
    if sysadmin and not user.sysadmin:
        user.sysadmin = True
        model.repo.commit()
    return user


def _demo_dates(path: str, today: dt.date) -> str:
    """A copy of the first-batch CSV with a last-update date per row (some overdue)."""
    out = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8")
    with open(path, encoding="utf-8-sig") as f, out:
        reader = csv.reader(f)
        writer = csv.writer(out)
        writer.writerow(next(reader) + ["最近更新日期"])
        for row in reader:
            seq = int(row[0])
            back = (seq * 7) % 45 if row[4] != "实时" else seq % 3
            writer.writerow(row + [(today - dt.timedelta(days=back)).isoformat()])
    return out.name


def load(echo: Callable[[str], None] = print, today: dt.date | None = None) -> None:
    today = today or clock.today()
    site = site_user_name()
    _ensure_org(roles.bureau_org(), "市数据局", "数据主管部门：审批产品与场景、制定指导价上限、监督管理。", site)
    _ensure_org(roles.operator_org(), "三医数据运营有限公司",
                "授权运营机构：运营平台、上架产品、在上限内定价。", site)
    csv_path = _demo_dates(os.path.join(DATA, "catalog-first-batch.csv"), today)
    try:
        report = importer.import_file(csv_path, batch="第一批", create_units=True,
                                      today=today, user=site)
    finally:
        os.unlink(csv_path)
    echo("目录 / catalog: " + report.summary())
    for e in report.errors:
        echo(f"  row {e.row}: {e.message}")
    domain_demo.catalog_resources(site, today, echo)
    for name, password, fullname, org, role, sysadmin in ACCOUNTS:
        _ensure_user(name, password, fullname, sysadmin)
        if org:
            org_name = {"bureau": roles.bureau_org(),
                        "operator": roles.operator_org()}.get(org) or units.unit_name(org)
            tk.get_action("organization_member_create")(
                {"user": site, "ignore_auth": True},
                {"id": org_name, "username": name, "role": role})
    n = _load_products(site)
    echo(f"产品 / products: {n}")
    from ..pricing import load_demo_prices
    load_demo_prices(echo)
    from ..delivery.processors import load_demo as load_demo_processor
    load_demo_processor(echo)
    if tk.config.get("ckanext.sanyi.demo_passwords"):
        echo("演示账号 / demo accounts (http://127.0.0.1:5000/user/login):")
        for name, password, fullname, *_ in ACCOUNTS:
            echo(f"  {name:<10} {password:<22} {fullname}")
    from ..delivery.client_demo import load_demo_clients
    load_demo_clients(echo)


def _product_sources() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(os.path.join(DATA, "product-sources.csv"), encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        for scenario, refs in reader:
            names = []
            for ref in refs.split(";"):
                unit, title = ref.split("/", 1)
                names.append(importer.resource_name(units.unit_name(unit), title))
            out[scenario] = names
    return out


def english_titles() -> dict[str, str]:
    """The demo resources' and products' English titles (data/titles-en.csv), by title."""
    with open(os.path.join(DATA, "titles-en.csv"), encoding="utf-8-sig") as f:
        return {row[0]: row[1] for row in list(csv.reader(f))[1:] if len(row) >= 2}


def _load_products(site: str) -> int:
    sources = _product_sources()
    english = english_titles()
    n = 0
    with open(os.path.join(DATA, "products-first-batch.csv"), encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            scenario = row["应用场景"]
            unit_titles = [u for u in row["数据主要供给单位"].split(";") if u]
            for title in unit_titles:
                if units.find_unit(title) is None:
                    units.create_unit(title, site)
            data = {
                "type": "product",
                "name": "p-" + hashlib.sha1(scenario.encode()).hexdigest()[:12],
                "title": scenario,
                "title_en": english.get(scenario, ""),
                "owner_org": roles.operator_org(),
                "category": CATEGORY[row["类别"]],
                "scenario": scenario,
                "notes": row["产品介绍"],
                "product_forms": [FORMS[x] for x in row["产品形态/服务形式"].split(";") if x],
                "supplying_units": [units.unit_name(t) for t in unit_titles],
                "source_resources": sources.get(scenario, []),
                "status": "approved",
            }
            context = {"user": site, "ignore_auth": True}
            if model.Package.get(data["name"]) is None:
                tk.get_action("package_create")(context, data)
            elif not _same_product(data):
                tk.get_action("package_patch")(context, dict(data, id=data["name"]))
                if not _same_product(data):  # new sources sent the listed product to review
                    tk.get_action("package_patch")(context, {"id": data["name"],
                                                             "status": data["status"]})
            n += 1
    return n


def _same_product(data: dict) -> bool:
    """Is the stored product already ``data``? (then a re-run leaves it, and its history,
    alone)"""
    shown = tk.get_action("package_show")({"ignore_auth": True}, {"id": data["name"]})
    if shown.get("state") != "active" or (shown.get("organization") or {}).get(
            "name") != data["owner_org"]:
        return False
    for key, want in data.items():
        if key in ("owner_org", "type", "name"):
            continue
        have = shown.get(key)
        if isinstance(want, list):
            if sorted(have or []) != sorted(want):
                return False
        elif (have or "") != (want or ""):
            return False
    return True
