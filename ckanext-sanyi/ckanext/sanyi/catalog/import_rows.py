"""Reading a catalog import file (CSV or XLSX, first-batch layout) and its cells, leniently.

Columns (Chinese headers; English aliases accepted): 序号, 数源单位, 数据资源名称, 提供方式,
更新周期, and optionally 领域, 分类分级, 开放属性, 最近更新日期, 资源描述, 公示批次, 英文名称. A title
row (or a few) above the header is skipped; cells are read as clerks type them
(``domain/catalog_input.py``: lists separated by 、，,;；, dates as 2026-11-01, 2026/11/01 or
2026年11月1日, full-width letters and digits, choices by value or label). A file with unknown
headers or missing required columns is refused as a whole (``ImportFileError``). The rows
become datasets (``row_to_dataset``, with defaults) or patches (``row_to_patch``, only the
cells filled in); ``changed_keys`` compares a patch with what is stored.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..common import tabular
from ..common.i18n_text import bi
from ..domain import catalog_input as ci
from ..domain.errors import DomainError
from . import units

HEADERS = {
    "序号": "seq", "数源单位": "unit", "数据资源名称": "title", "提供方式": "delivery_methods",
    "更新周期": "update_cycle", "领域": "domain", "分类分级": "grade_level",
    "开放属性": "open_attribute", "最近更新日期": "last_updated", "资源描述": "notes",
    "公示批次": "batch", "英文名称": "title_en",
    # English aliases
    "seq": "seq", "source_unit": "unit", "title": "title", "delivery_methods": "delivery_methods",
    "update_cycle": "update_cycle", "domain": "domain", "grade_level": "grade_level",
    "open_attribute": "open_attribute", "last_updated": "last_updated", "notes": "notes",
    "batch": "batch", "title_en": "title_en", "English title": "title_en",
}
ZH_HEADER = {"seq": "序号", "unit": "数源单位", "title": "数据资源名称",
             "delivery_methods": "提供方式", "update_cycle": "更新周期", "domain": "领域",
             "grade_level": "分类分级", "open_attribute": "开放属性",
             "last_updated": "最近更新日期", "notes": "资源描述", "batch": "公示批次",
             "title_en": "英文名称"}
EN_HEADER = {"unit": "source_unit"}  # other keys are their own English alias
COLUMNS = tuple(ZH_HEADER)  # the layout of the template and of an export
REQUIRED = ("unit", "title", "delivery_methods", "update_cycle")
# dataset fields a row may set, in the order they are compared
ROW_FIELDS = ("title", "title_en", "notes", "domain", "delivery_methods", "update_cycle", "grade_level",
              "open_attribute", "last_updated", "batch")
CHOICE_FIELDS = ("domain", "update_cycle", "grade_level", "open_attribute")
IMPORT_ACTIVITY = "sanyi import catalog"
ADD, CHANGE, UNCHANGED, REJECT = "add", "change", "unchanged", "reject"
_PACKAGE_COLUMNS = frozenset(c.name for c in model.package_table.c)


class ImportFileError(tk.ValidationError):
    """The file as a whole cannot be imported (unreadable, wrong headers, user)."""


@dataclass
class RowError:
    row: int
    message: str


@dataclass
class PlanRow:
    """What importing one row of the file does."""
    row: int
    action: str
    unit: str = ""
    title: str = ""
    name: str = ""
    reason: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # field, before, after
    defaulted: list[tuple[str, str]] = field(default_factory=list)     # field, default
    data: dict[str, Any] = field(default_factory=dict)  # the dataset to create / update
    pkg_id: str = ""
    modified: str = ""  # the dataset's metadata_modified when planned (a change)


@dataclass
class Plan:
    file: str
    sha256: str
    user: str
    rows: list[PlanRow]
    new_units: dict[str, str] = field(default_factory=dict)  # title -> URL name, on apply

    def of(self, action: str) -> list[PlanRow]:
        return [r for r in self.rows if r.action == action]

    def counts(self) -> dict[str, int]:
        return {a: len(self.of(a)) for a in (ADD, CHANGE, UNCHANGED, REJECT)}

    def digest(self) -> str:
        """A hash of everything the plan would write (and of the file): equal plans, equal
        digests; a preview confirmed later is applied only if its digest is unchanged."""
        body = [self.sha256, sorted(self.new_units.items())]
        for r in self.rows:
            data = {k: v for k, v in r.data.items() if k not in ("metadata_modified",)}
            if r.action == CHANGE:  # validated whole or field by field: what is written,
                # and the dataset as it was (any change since is a change of the plan)
                columns = {k for k, _, _ in r.changes} & _PACKAGE_COLUMNS
                data = {k: v for k, v in data.items() if k == "extras" or k in columns}
                data["metadata_modified"] = r.modified
            body.append([r.row, r.action, r.name, r.pkg_id, r.reason, data])
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def resource_name(unit_name: str, title: str) -> str:
    return "r-" + hashlib.sha1(f"{unit_name}|{title}".encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------
# reading

def _file_error(zh: str, en: str) -> ImportFileError:
    return ImportFileError({"file": [bi(zh, en)]})


def read_rows(path: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number as seen in the file, row by canonical key), cells read leniently.

    The header is the first of the first rows naming the required columns (title rows
    above it are skipped). Raises ``ImportFileError`` (before the first row) for a file
    that can't be imported.
    """
    try:
        rows = tabular.rows(path)
        head = []
        for row in rows:
            head.append(row)
            if len(head) == ci.HEADER_SCAN_ROWS:
                break
    except tabular.UnreadableFile as e:
        raise ImportFileError({"file": [bi(e.zh, e.en)]}) from None
    if not any(str(c or "").strip() for r in head for c in r):
        raise _file_error("文件为空（第 1 行应为表头）", "The file is empty (row 1 must be the header)")
    at = ci.header_row(head, HEADERS, REQUIRED)
    keys = [ci.header_key(h, HEADERS) for h in head[at]]
    missing = [k for k in REQUIRED if k not in keys]
    if missing:
        zh = "、".join(ZH_HEADER[m] for m in missing)
        en = ", ".join(f"{ZH_HEADER[m]} ({EN_HEADER.get(m, m)})" for m in missing)
        raise _file_error(
            f"表头缺少列：{zh}（第一批目录的格式为：序号, 数源单位, 数据资源名称, 提供方式, 更新周期）",
            f"Missing columns: {en} (expected the first-batch layout: "
            "序号, 数源单位, 数据资源名称, 提供方式, 更新周期)")
    dupes = sorted({k for k in keys if k and keys.count(k) > 1})
    if dupes:
        raise _file_error("表头有重复的列：" + "、".join(ZH_HEADER[k] for k in dupes),
                          "Duplicate columns: " + ", ".join(EN_HEADER.get(k, k) for k in dupes))

    def data_rows() -> Iterator[tuple[int, dict[str, str]]]:
        numbered = ((i + 1, r) for i, r in enumerate(head[at + 1:], start=at + 1))
        try:
            for number, values in numbered:
                yield from _one(number, values, keys)
            for number, values in enumerate(rows, start=len(head) + 1):
                yield from _one(number, values, keys)
        except tabular.UnreadableFile as e:
            raise ImportFileError({"file": [bi(e.zh, e.en)]}) from None
    return data_rows()


def _one(number: int, values: list[Any], keys: list[str | None]
         ) -> Iterator[tuple[int, dict[str, str]]]:
    if any(str(v or "").strip() for v in values):
        yield number, {k: _cell(v) for k, v in zip(keys, values, strict=False) if k}


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else ci.clean_text(str(value))


# ---------------------------------------------------------------------------------------
# lenient cells -> the values the schema takes

def _choices(name: str) -> list[dict[str, Any]]:
    from ckanext.scheming.helpers import scheming_field_by_name, scheming_get_dataset_schema
    schema = scheming_get_dataset_schema("dataset") or {}
    f = scheming_field_by_name(schema.get("dataset_fields", []), name) or {}
    return f.get("choices", [])


def _code(name: str, text: str) -> str:
    """The choice value ``text`` names (value or label in any language, folded and case-
    insensitive); ``text`` itself when none does (the schema then says what is allowed)."""
    return _choice_index(name).get(ci.fold(text).lower(), text)


# field -> (its choices list, folded name -> value), rebuilt when the schema's list changes
_CHOICE_INDEX: dict[str, tuple[list[dict[str, Any]], dict[str, str]]] = {}


def _choice_index(name: str) -> dict[str, str]:
    """Every name of ``name``'s choices (value, labels), folded and lower-cased -> its value;
    of two choices with the same name, the first."""
    choices = _choices(name)
    cached = _CHOICE_INDEX.get(name)
    if cached is not None and cached[0] is choices:
        return cached[1]
    index: dict[str, str] = {}
    for c in choices:
        labels = c.get("label", {})
        for n in [c["value"], *(labels.values() if isinstance(labels, dict) else [labels])]:
            index.setdefault(ci.fold(str(n)).lower(), c["value"])
    _CHOICE_INDEX[name] = (choices, index)
    return index


def label(name: str, code: str, lang: str = "zh_Hans_CN") -> str:
    for c in _choices(name):
        if c["value"] == code:
            labels = c.get("label", {})
            return str(labels.get(lang, code) if isinstance(labels, dict) else labels)
    return code


def lenient(row: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The row with its cells in the form the schema takes; and the date errors."""
    out = dict(row)
    errors = []
    for key in ("unit", "seq", "batch"):
        if out.get(key):
            out[key] = ci.fold(out[key])
    if out.get("delivery_methods"):
        out["delivery_methods"] = ";".join(_code("delivery_methods", v)
                                           for v in ci.split_list(out["delivery_methods"]))
    for key in CHOICE_FIELDS:
        if out.get(key):
            out[key] = (units.cycle_code(ci.fold(out[key])) if key == "update_cycle"
                        and _code(key, out[key]) == out[key] else _code(key, out[key]))
    if out.get("last_updated"):
        try:
            out["last_updated"] = ci.parse_date(out["last_updated"]).isoformat()
        except DomainError as e:
            errors.append(f"{ZH_HEADER['last_updated']} / Last updated: {bi(e.zh, e.en)}")
    return out, errors


# ---------------------------------------------------------------------------------------
# rows -> datasets

def row_to_dataset(row: dict[str, str], org: Any, batch: str,
                   today: dt.date) -> dict[str, Any]:
    """The dataset a new row creates (defaults for the cells the row leaves empty)."""
    return {
        "type": "dataset",
        "name": resource_name(org.name, row["title"]),
        "title": row["title"],
        "title_en": row.get("title_en", ""),
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


def defaulted(row: dict[str, str], data: dict[str, Any]) -> list[tuple[str, str]]:
    """The fields of a new row's dataset that the row left blank and got a default."""
    keys = ("domain", "grade_level", "open_attribute", "last_updated", "batch")
    return [(k, str(data[k])) for k in keys if not row.get(k) and data.get(k)]


def row_to_patch(row: dict[str, str], batch: str) -> dict[str, Any]:
    """The fields a row sets on an existing dataset: only the cells it fills in."""
    patch: dict[str, Any] = {k: row[k] for k in ROW_FIELDS if row.get(k)}
    if "update_cycle" in patch:
        patch["update_cycle"] = units.cycle_code(patch["update_cycle"])
    if "batch" not in patch and batch:
        patch["batch"] = batch
    return patch


def _stored_form(key: str, value: Any) -> Any:
    """What the schema's validators would store for ``value`` (None: can't tell)."""
    from .logic.validators import _match
    if key in CHOICE_FIELDS:
        return _match(str(value).strip(), _choices(key))
    if key == "delivery_methods":
        choices = _choices(key)
        codes = [_match(v, choices) for v in ci.split_list(str(value))]
        if None in codes or not codes:
            return None
        order = [c["value"] for c in choices]
        return json.dumps(sorted(set(codes), key=order.index), ensure_ascii=False)
    if key == "last_updated":
        try:
            return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
        except ValueError:
            return None
    return value


def changed_keys(pkg: model.Package, patch: dict[str, Any]) -> list[str]:
    """The keys of ``patch`` whose value differs from what ``pkg`` stores."""
    extras = pkg.extras or {}
    out = []
    for key, new in patch.items():
        if key == "owner_org":
            if new != pkg.owner_org:
                out.append(key)
        elif key in ("title", "notes"):
            if (new or "") != (getattr(pkg, key) or ""):
                out.append(key)
        else:
            stored = _stored_form(key, new)
            if stored is None or stored != extras.get(key, ""):
                out.append(key)
    return out


def is_unchanged(pkg: model.Package, patch: dict[str, Any]) -> bool:
    return pkg.state == "active" and not changed_keys(pkg, patch)


def display(key: str, value: Any) -> str:
    """A stored or typed value as a person reads it (choice codes as Chinese labels)."""
    if value in (None, ""):
        return ""
    if key == "delivery_methods":
        items = value if isinstance(value, list) else ci.split_list(str(value))
        return "、".join(label(key, str(v)) for v in items)
    if key in CHOICE_FIELDS:
        return label(key, str(value))
    return str(value)
