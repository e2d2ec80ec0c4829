"""Bulk import of catalog resources from CSV or XLSX in the first-batch layout.

Columns (Chinese headers; English aliases accepted): 序号, 数源单位, 数据资源名称, 提供方式,
更新周期, and optionally 领域, 分类分级, 开放属性, 最近更新日期, 资源描述, 公示批次.

* Every row is validated with the catalog schema itself (the same validators as the web
  form and the API), so a bad row is reported with its row number and a field-level
  reason in Chinese and English, and nothing of it is written; the good rows are imported.
* A file with unknown headers or missing required columns is refused as a whole
  (``ImportFileError``) before anything is written.
* Re-importing the same file changes nothing: a row's identity is (数源单位, 名称), its URL
  name is derived from them, and a row equal to what is stored is skipped. For a resource
  that exists, only the cells the file fills in are changed (an empty optional cell keeps
  what a data unit entered on the web).
* New rows are created in batches by ``bulk.create_batch`` (validated like
  ``package_create``, written with SQLAlchemy core, indexed in bulk); changed rows go
  through ``package_patch``. Each run is recorded as one activity (``sanyi import catalog``)
  of the importing user, with the file name and the counts.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..common import clock, tabular
from ..common.i18n_text import MISSING, bi
from ..common.user import site_user_name
from . import units

HEADERS = {
    "序号": "seq", "数源单位": "unit", "数据资源名称": "title", "提供方式": "delivery_methods",
    "更新周期": "update_cycle", "领域": "domain", "分类分级": "grade_level",
    "开放属性": "open_attribute", "最近更新日期": "last_updated", "资源描述": "notes",
    "公示批次": "batch",
    # English aliases
    "seq": "seq", "source_unit": "unit", "title": "title", "delivery_methods": "delivery_methods",
    "update_cycle": "update_cycle", "domain": "domain", "grade_level": "grade_level",
    "open_attribute": "open_attribute", "last_updated": "last_updated", "notes": "notes",
    "batch": "batch",
}
ZH_HEADER = {"seq": "序号", "unit": "数源单位", "title": "数据资源名称",
             "delivery_methods": "提供方式", "update_cycle": "更新周期", "domain": "领域",
             "grade_level": "分类分级", "open_attribute": "开放属性",
             "last_updated": "最近更新日期", "notes": "资源描述", "batch": "公示批次"}
EN_HEADER = {"unit": "source_unit"}  # other keys are their own English alias
REQUIRED = ("unit", "title", "delivery_methods", "update_cycle")
# dataset fields a row may set, in the order they are compared
ROW_FIELDS = ("title", "notes", "domain", "delivery_methods", "update_cycle", "grade_level",
              "open_attribute", "last_updated", "batch")
IMPORT_ACTIVITY = "sanyi import catalog"


class ImportFileError(tk.ValidationError):
    """The file as a whole cannot be imported (unreadable, wrong headers)."""


@dataclass
class RowError:
    row: int
    message: str


@dataclass
class ImportReport:
    file: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    units_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    activity_id: str | None = None

    def summary(self) -> str:
        return (f"新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}，"
                f"新建单位 {self.units_created}，错误 {len(self.errors)} / "
                f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
                f"units created {self.units_created}, errors {len(self.errors)}")


def resource_name(unit_name: str, title: str) -> str:
    return "r-" + hashlib.sha1(f"{unit_name}|{title}".encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------
# reading

def read_rows(path: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number as seen in the file, row by canonical key); header is row 1.

    Raises ``ImportFileError`` (before the first row) for a file that can't be imported.
    """
    try:
        rows = tabular.rows(path)
        header = next(rows, None)
    except tabular.UnreadableFile as e:
        raise ImportFileError({"file": [bi(e.zh, e.en)]}) from None
    if not header or not any(str(h or "").strip() for h in header):
        raise ImportFileError({"file": [bi("文件为空（第 1 行应为表头）",
                                           "The file is empty (row 1 must be the header)")]})
    keys = [HEADERS.get(str(h or "").strip().lstrip("\ufeff")) for h in header]
    missing = [k for k in REQUIRED if k not in keys]
    if missing:
        zh = "、".join(ZH_HEADER[m] for m in missing)
        en = ", ".join(f"{ZH_HEADER[m]} ({EN_HEADER.get(m, m)})" for m in missing)
        raise ImportFileError({"file": [bi(
            f"表头缺少列：{zh}（第一批目录的格式为：序号, 数源单位, 数据资源名称, 提供方式, 更新周期）",
            f"Missing columns: {en} (expected the first-batch layout: "
            "序号, 数源单位, 数据资源名称, 提供方式, 更新周期)")]})
    dupes = sorted({k for k in keys if k and keys.count(k) > 1})
    if dupes:
        raise ImportFileError({"file": [bi(
            "表头有重复的列：" + "、".join(ZH_HEADER[k] for k in dupes),
            "Duplicate columns: " + ", ".join(EN_HEADER.get(k, k) for k in dupes))]})
    return _data_rows(rows, keys)


def _data_rows(rows: Iterator[list[Any]], keys: list[str | None]
               ) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        for number, values in enumerate(rows, start=2):
            if not any(str(v or "").strip() for v in values):
                continue
            yield number, {k: _cell(v) for k, v in zip(keys, values, strict=False) if k}
    except tabular.UnreadableFile as e:
        raise ImportFileError({"file": [bi(e.zh, e.en)]}) from None


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


# ---------------------------------------------------------------------------------------
# rows -> datasets

def row_to_dataset(row: dict[str, str], org: model.Group, batch: str,
                   today: dt.date) -> dict[str, Any]:
    """The dataset a new row creates (defaults for the cells the row leaves empty)."""
    return {
        "type": "dataset",
        "name": resource_name(org.name, row["title"]),
        "title": row["title"],
        "owner_org": org.id,
        "notes": row.get("notes", ""),
        "domain": row.get("domain") or units.domain_for(org.title, row["title"]),
        "delivery_methods": row.get("delivery_methods", ""),
        "update_cycle": units.cycle_code(row.get("update_cycle", "")),
        "grade_level": row.get("grade_level") or units.default_grade(org.title),
        "open_attribute": row.get("open_attribute") or "authorized",
        "last_updated": row.get("last_updated") or today.isoformat(),
        "batch": row.get("batch") or batch,
        "private": False,
    }


def row_to_patch(row: dict[str, str], batch: str) -> dict[str, Any]:
    """The fields a row sets on an existing dataset: only the cells it fills in."""
    patch: dict[str, Any] = {k: row[k] for k in ROW_FIELDS if row.get(k)}
    if "update_cycle" in patch:
        patch["update_cycle"] = units.cycle_code(patch["update_cycle"])
    if "batch" not in patch and batch:
        patch["batch"] = batch
    return patch


def _choices(name: str) -> list[dict[str, Any]]:
    from ckanext.scheming.helpers import scheming_field_by_name, scheming_get_dataset_schema
    schema = scheming_get_dataset_schema("dataset") or {}
    f = scheming_field_by_name(schema.get("dataset_fields", []), name) or {}
    return f.get("choices", [])


def _stored_form(key: str, value: Any) -> Any:
    """What the schema's validators would store for ``value`` (None: can't tell)."""
    from .logic.validators import _match
    if key in ("domain", "update_cycle", "grade_level", "open_attribute"):
        return _match(str(value).strip(), _choices(key))
    if key == "delivery_methods":
        choices = _choices(key)
        items = [v for v in str(value).replace("；", ";").replace("，", ";")
                 .replace(",", ";").split(";") if v.strip()]
        codes = [_match(v.strip(), choices) for v in items]
        if None in codes:
            return None
        order = [c["value"] for c in choices]
        return json.dumps(sorted(set(codes), key=order.index), ensure_ascii=False)
    if key == "last_updated":
        try:
            return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
        except ValueError:
            return None
    return value


def is_unchanged(pkg: model.Package, patch: dict[str, Any]) -> bool:
    if pkg.state != "active":
        return False
    extras = pkg.extras or {}
    for key, new in patch.items():
        if key == "owner_org":
            return False
        if key in ("title", "notes"):
            if (new or "") != (getattr(pkg, key) or ""):
                return False
            continue
        stored = _stored_form(key, new)
        if stored is None or stored != extras.get(key, ""):
            return False
    return True


# ---------------------------------------------------------------------------------------
# the import

def import_file(path: str, batch: str = "", create_units: bool = True, progress: bool = False,
                today: dt.date | None = None, user: str | None = None,
                batch_size: int = 1000, activity: bool = True,
                workers: int | None = None) -> ImportReport:
    """Import ``path``; returns counts and the bad rows. Commits batch by batch.

    :param user: who imports (default: the site user); recorded in the activity
    :param activity: also record the per-dataset "new package" activity (as the web does)
    :param workers: processes creating new resources (default: one per CPU core, for
        imports of more than 4 batches; 1 = in this process only)
    """
    from . import bulk
    report = ImportReport(file=os.path.basename(path))
    today = today or clock.today()
    importer = user or site_user_name()
    if model.User.get(importer) is None:
        raise ImportFileError({"user": [bi(f"未知的用户“{importer}”", f"Unknown user '{importer}'")]})
    rows = list(read_rows(path))  # ImportFileError before anything is written
    report.rows = len(rows)
    bar = _progress(len(rows), progress)

    # 1. cells every row needs, duplicates, source units
    seen: dict[tuple[str, str], int] = {}
    pending: list[tuple[int, dict[str, str]]] = []
    for number, row in rows:
        missing = [k for k in ("unit", "title") if not row.get(k)]
        if missing:
            labels = bulk.field_labels()
            label = {"unit": ("数源单位", "Source unit"), "title": labels.get("title")}
            report.errors.append(RowError(number, " | ".join(
                f"{label[k][0]} / {label[k][1]}: {MISSING}" for k in missing)))
            bar(1)
            continue
        ident = (row["unit"], row["title"])
        if ident in seen:
            report.errors.append(RowError(number, bi(
                f"数源单位 / 数据资源名称与第 {seen[ident]} 行重复：{row['unit']} / {row['title']}",
                f"Duplicate of row {seen[ident]}: {row['unit']} / {row['title']}")))
            bar(1)
            continue
        seen[ident] = number
        pending.append((number, row))
    orgs = _resolve_units(pending, batch, today, create_units, importer, report, bar)

    # 2. new, changed or unchanged
    new: list[tuple[int, dict[str, Any]]] = []
    changed: list[tuple[int, dict[str, Any]]] = []
    first_row: dict[str, int] = {}  # the unit by its title in one row, by its name in another
    for start in range(0, len(pending), batch_size):
        chunk = []
        for n, r in pending[start:start + batch_size]:
            if r["unit"] not in orgs:
                continue
            name = resource_name(orgs[r["unit"]].name, r["title"])
            if name in first_row:
                report.errors.append(RowError(n, bi(
                    f"数源单位 / 数据资源名称与第 {first_row[name]} 行重复：{r['unit']} / {r['title']}",
                    f"Duplicate of row {first_row[name]}: {r['unit']} / {r['title']}")))
                bar(1)
                continue
            first_row[name] = n
            chunk.append((n, r))
        names = {n: resource_name(orgs[r["unit"]].name, r["title"]) for n, r in chunk}
        existing = {p.name: p for p in model.Session.query(model.Package)
                    .filter(model.Package.name.in_(list(names.values())),
                            model.Package.state != "deleted")}
        for number, row in chunk:
            pkg = existing.get(names[number])
            if pkg is None:
                new.append((number, row_to_dataset(row, orgs[row["unit"]], batch, today)))
                continue
            patch = row_to_patch(row, batch)
            if pkg.owner_org != orgs[row["unit"]].id:  # moved on the web: the file says
                patch["owner_org"] = orgs[row["unit"]].id
            if is_unchanged(pkg, patch):
                report.unchanged += 1
                bar(1)
            else:
                changed.append((number, dict(patch, id=pkg.id)))
        for pkg in existing.values():  # 100,000 rows: don't keep them all in the session
            model.Session.expunge(pkg)

    # 3. write: new ones in bulk (in parallel when large), changed ones one by one
    chunks = [new[i:i + batch_size] for i in range(0, len(new), batch_size)]
    for created, errors, done in bulk.create_chunks(chunks, importer, activity, workers):
        report.created += created
        report.errors += [RowError(n, m) for n, m in errors]
        bar(done)
    if changed:
        out = bulk.update_rows(changed, importer)
        report.updated += len(out.updated)
        report.errors += [RowError(n, m) for n, m in out.errors]
        bar(len(changed))
    bar(0, done=True)
    report.errors.sort(key=lambda e: e.row)
    report.activity_id = record_import(report, importer)
    return report


def _resolve_units(pending: list[tuple[int, dict[str, str]]], batch: str, today: dt.date,
                   create_units: bool, user: str, report: ImportReport,
                   bar: Callable[..., None]) -> dict[str, model.Group]:
    """Organisation per 数源单位 cell. An unknown unit is created (``create_units``) only
    once one of its rows is valid, so a file of bad rows leaves no new organisation."""
    from . import bulk
    orgs: dict[str, model.Group] = {}
    unknown: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in pending:
        title = row["unit"]
        if title not in orgs and title not in unknown:
            org = units.find_unit(title)
            if org is not None:
                orgs[title] = org
                continue
            unknown[title] = []
        if title in unknown:
            unknown[title].append((number, row))
    placeholder = next(iter(orgs.values()), None) or model.Session.query(model.Group).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active").first()
    for title, unit_rows in unknown.items():
        if create_units:
            for _, row in unit_rows:
                stand_in = _StandIn(units.unit_name(title), title,
                                    placeholder.id if placeholder else "")
                _, errors = bulk.validate_create(row_to_dataset(row, stand_in, batch, today),
                                                 user)
                errors.pop("owner_org", None)
                errors.pop("name", None)
                if not errors:
                    orgs[title] = units.create_unit(title, user)
                    report.units_created += 1
                    break
        if title not in orgs:
            for number, row in unit_rows:
                if not create_units:
                    report.errors.append(RowError(number, bi(
                        f"数源单位 / Source unit: 未知的数源单位“{title}”",
                        f"Unknown source unit '{title}'")))
                else:  # every row of the unit is bad: validate again to say why
                    stand_in = _StandIn(units.unit_name(title), title,
                                        placeholder.id if placeholder else "")
                    _, errors = bulk.validate_create(
                        row_to_dataset(row, stand_in, batch, today), user)
                    errors.pop("owner_org", None)
                    errors.pop("name", None)
                    report.errors.append(RowError(number, bulk.error_text(errors)))
                bar(1)
    return orgs


@dataclass
class _StandIn:
    """An organisation not created yet: what ``row_to_dataset`` reads from one."""
    name: str
    title: str
    id: str


def record_import(report: ImportReport, user: str) -> str | None:
    """One activity per import run: who, which file, the counts and the bad rows."""
    if not tk.config.get("ckan.activity_streams_enabled"):
        return None
    try:
        from ckanext.activity.model import Activity
    except ImportError:
        return None
    import ckan.plugins as plugins
    if not plugins.plugin_loaded("activity"):
        return None
    user_obj = model.User.get(user)
    if user_obj is None:
        return None
    act = Activity(user_obj.id, user_obj.id, IMPORT_ACTIVITY, {
        "actor": user_obj.name,
        "import": {"file": report.file, "rows": report.rows, "created": report.created,
                   "updated": report.updated, "unchanged": report.unchanged,
                   "units_created": report.units_created, "errors": len(report.errors),
                   "error_rows": [e.row for e in report.errors[:1000]]},
    })
    model.Session.add(act)
    model.repo.commit()
    return act.id


def _progress(total: int, enabled: bool) -> Callable[..., None]:
    if not enabled:
        return lambda n, done=False: None
    import click
    bar = click.progressbar(length=total, label="导入 / importing", show_pos=True,
                            show_percent=True, show_eta=True)
    bar.__enter__()

    def step(n: int, done: bool = False) -> None:
        bar.update(n)
        if done:
            bar.__exit__(None, None, None)
    return step
