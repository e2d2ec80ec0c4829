"""Validators for the scheming schemas, with field-level messages in Chinese and English."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import ckan.plugins.toolkit as tk
from ckanext.scheming.helpers import scheming_field_choices, scheming_language_text
from ckanext.scheming.validation import scheming_validator

from ..domain import cycles
from ..domain.errors import DomainError
from ..i18n_text import MISSING, bi
from .. import roles

Invalid = tk.Invalid
missing = tk.missing

__all__ = ["sanyi_required", "sanyi_slug_default", "sanyi_choice", "sanyi_multiple_choice",
           "sanyi_past_date", "sanyi_next_due", "sanyi_product_status", "sanyi_source_resources"]


def _empty(value: Any) -> bool:
    return value is missing or value is None or (isinstance(value, str) and not value.strip())


def sanyi_required(value: Any, context: Any) -> Any:
    if _empty(value):
        raise Invalid(MISSING)
    return value


def sanyi_slug_default(key: Any, data: dict, errors: dict, context: Any) -> None:
    """Leave a given name alone; otherwise derive a stable one from owner and title."""
    if not _empty(data.get(key)):
        return
    existing = context.get("package")
    if existing is not None:
        data[key] = existing.name
        return
    owner = data.get(("owner_org",)) or ""
    title = data.get(("title",)) or ""
    seed = f"{owner}|{title}" if title else uuid.uuid4().hex
    prefix = "p" if data.get(("type",)) == "product" else "r"
    data[key] = f"{prefix}-{hashlib.sha1(seed.encode()).hexdigest()[:12]}"


def _labels(choices: list[dict]) -> tuple[str, str]:
    zh = "、".join(str(scheming_language_text(c.get("label", c["value"]), "zh_Hans_CN"))
                  for c in choices)
    en = ", ".join(c["value"] for c in choices)
    return zh, en


def _field_label(field: dict) -> tuple[str, str]:
    label = field.get("label", field["field_name"])
    if isinstance(label, dict):
        return label.get("zh_Hans_CN", field["field_name"]), label.get("en", field["field_name"])
    return label, label


def _match(value: str, choices: list[dict]) -> str | None:
    """Accept a choice by its value or by its label in any language (for imports)."""
    for c in choices:
        labels = c.get("label", {})
        names = labels.values() if isinstance(labels, dict) else [labels]
        if value == c["value"] or value in names:
            return c["value"]
    return None


@scheming_validator
def sanyi_choice(field: dict, schema: dict):
    def validator(key: Any, data: dict, errors: dict, context: Any) -> None:
        value = data.get(key)
        if _empty(value):
            if field.get("required"):
                errors[key].append(MISSING)
            else:
                data[key] = ""
            return
        choices = scheming_field_choices(field)
        found = _match(str(value).strip(), choices)
        if found is None:
            zh_label, en_label = _field_label(field)
            zh, en = _labels(choices)
            errors[key].append(bi(f"未知的{zh_label}“{value}”（可选：{zh}）",
                                  f"Unknown {en_label.lower()} '{value}' (allowed: {en})"))
            return
        data[key] = found
    return validator


@scheming_validator
def sanyi_multiple_choice(field: dict, schema: dict):
    def validator(key: Any, data: dict, errors: dict, context: Any) -> None:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                try:
                    value = json.loads(value)
                except ValueError:
                    value = [value]
            else:
                value = [v for v in value.replace("；", ";").replace("，", ";")
                         .replace(",", ";").split(";") if v.strip()]
        if _empty(value) or value == []:
            if field.get("required"):
                errors[key].append(MISSING)
            else:
                data[key] = json.dumps([])
            return
        if not isinstance(value, list):
            errors[key].append(bi("应为列表", "Expected a list"))
            return
        choices = scheming_field_choices(field)
        out, bad = [], []
        for v in value:
            found = _match(str(v).strip(), choices)
            (bad.append(str(v)) if found is None else out.append(found))
        if bad:
            zh_label, en_label = _field_label(field)
            zh, en = _labels(choices)
            errors[key].append(bi(f"未知的{zh_label}“{'、'.join(bad)}”（可选：{zh}）",
                                  f"Unknown {en_label.lower()} '{', '.join(bad)}' "
                                  f"(allowed: {en})"))
            return
        order = [c["value"] for c in choices]
        data[key] = json.dumps(sorted(set(out), key=order.index), ensure_ascii=False)
    return validator


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


@scheming_validator
def sanyi_past_date(field: dict, schema: dict):
    def validator(key: Any, data: dict, errors: dict, context: Any) -> None:
        value = data.get(key)
        if _empty(value):
            if field.get("required"):
                errors[key].append(MISSING)
            return
        try:
            day = _parse_date(value)
        except ValueError:
            errors[key].append(bi(f"日期格式无效“{value}”，应为 YYYY-MM-DD",
                                  f"Invalid date '{value}', expected YYYY-MM-DD"))
            return
        try:
            cycles.validate_last_updated(day, dt.date.today())
        except DomainError as e:
            errors[key].append(bi(e.zh, e.en))
            return
        data[key] = day.isoformat()
    return validator


def sanyi_next_due(key: Any, data: dict, errors: dict, context: Any) -> None:
    """Computed: last update + update cycle (empty for irregular updates)."""
    data[key] = ""
    cycle, last = data.get(("update_cycle",)), data.get(("last_updated",))
    if errors.get(("update_cycle",)) or errors.get(("last_updated",)) or _empty(cycle) or _empty(last):
        return
    try:
        due = cycles.next_due(_parse_date(last), cycle)
    except (DomainError, ValueError):
        return
    data[key] = due.isoformat() if due else ""


def sanyi_product_status(key: Any, data: dict, errors: dict, context: Any) -> None:
    """Only bureau staff approve a product; a product is private until approved."""
    if errors.get(key):
        return
    status = data.get(key)
    pkg = context.get("package")
    old = pkg.extras.get("status") if pkg is not None else None
    bureau = context.get("ignore_auth") or roles.is_bureau_staff(
        context.get("auth_user_obj") or context.get("user"))
    if status == "approved" and old != "approved" and not bureau:
        errors[key].append(bi("只有数据局工作人员可以批准产品上架",
                              "Only bureau staff can approve a product"))
        return
    # delisted products stay public: only a product that was approved can get there
    if status == "delisted" and old not in ("approved", "delisted") and not bureau:
        errors[key].append(bi("只有已批准的产品可以下架",
                              "Only an approved product can be delisted"))
        return
    # whatever ``private`` the caller sent: unapproved products are private
    data[("private",)] = status not in ("approved", "delisted")


def sanyi_source_resources(key: Any, data: dict, errors: dict, context: Any) -> None:
    """A list of catalog entries (names or ids) that must exist."""
    import ckan.model as model
    value = data.get(key)
    if _empty(value):
        data[key] = json.dumps([])
        return
    if isinstance(value, str):
        value = json.loads(value) if value.strip().startswith("[") else [value]
    names, bad = [], []
    for ref in value:
        pkg = model.Package.get(str(ref))
        if pkg is None or pkg.type != "dataset" or pkg.state == "deleted":
            bad.append(str(ref))
        else:
            names.append(pkg.name)
    if bad:
        errors[key].append(bi(f"来源数据资源不存在：{'、'.join(bad)}",
                              f"Unknown source resources: {', '.join(bad)}"))
        return
    data[key] = json.dumps(sorted(set(names)))
