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

from ...common import clock, roles
from ...common.i18n_text import MISSING, bi
from ...common.user import acting_user
from ...domain import cycles
from ...domain.errors import DomainError

Invalid = tk.Invalid
missing = tk.missing

__all__ = ["sanyi_required", "sanyi_slug_default", "sanyi_choice", "sanyi_multiple_choice",
           "sanyi_past_date", "sanyi_next_due", "sanyi_product_status", "sanyi_source_resources",
           "sanyi_filed_by", "sanyi_product_review"]


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
            cycles.validate_last_updated(day, clock.today())
        except DomainError as e:
            errors[key].append(bi(e.zh, e.en))
            return
        data[key] = day.isoformat()
    return validator


# the fields sanyi_next_due reads
NEXT_DUE_INPUTS = ("last_updated", "update_cycle")


def sanyi_next_due(key: Any, data: dict, errors: dict, context: Any) -> None:
    """Computed: last update + update cycle (empty for irregular updates)."""
    data[key] = ""
    last, cycle = (data.get((k,)) for k in NEXT_DUE_INPUTS)
    if any(errors.get((k,)) for k in NEXT_DUE_INPUTS) or _empty(cycle) or _empty(last):
        return
    try:
        due = cycles.next_due(_parse_date(last), cycle)
    except (DomainError, ValueError):
        return
    data[key] = due.isoformat() if due else ""


# what a product is approved for: a change to any of these is a change of its content
PRODUCT_CONTENT = ("title", "notes", "owner_org", "category", "scenario", "product_forms",
                   "supplying_units", "source_resources")
# what a product draws on: a change to these sends a listed product back to review
PRODUCT_DRAWS_ON = ("source_resources", "supplying_units")
LISTED = ("approved", "delisted")
_REVIEW = "sanyi_product_review"  # set in the validation context by sanyi_product_status


def sanyi_product_status(key: Any, data: dict, errors: dict, context: Any) -> None:
    """A product's status: filing and approval are separate steps by separate people.

    * 草稿 ``draft`` and 已备案 ``filed`` are private; whoever may edit the product (the
      operator) sets them.
    * 已批准 ``approved`` (listed: public, open for applications) is set only by bureau staff
      (or a sysadmin), never in the call that creates the product or changes its content
      (:data:`PRODUCT_CONTENT`), and never by the user who filed the product or last changed
      its content (kept in the computed field ``filed_by``).
    * 已下架 ``delisted`` (public, closed for applications): only from approved or delisted.
    * A change to what a listed (approved or delisted) product draws on
      (:data:`PRODUCT_DRAWS_ON`: ``source_resources``, ``supplying_units``), by anyone, sends
      it back to review: it is saved as ``filed`` (private), whatever status the call asked
      for, until other bureau staff approve it again, so what a listed product stores is
      always what was approved.
    * An approved product draws only on published catalog resources (public and active):
      otherwise ``source_resources`` is refused.
    * Internal calls (``ignore_auth``: the command-line import and the demo loader) act for
      the platform and set the status they state; the last rule holds for them too.

    The rules compare the validated fields with the stored product, so they run once every
    field is validated, in :func:`sanyi_product_review` (the schema's ``after_validators``);
    this validator only marks the product input for it.
    """
    if not errors.get(key):
        context[_REVIEW] = True


def _stored(pkg: Any, name: str) -> Any:
    if name in ("title", "notes", "owner_org"):
        return getattr(pkg, name)
    return pkg.extras.get(name)


def _norm(value: Any) -> Any:
    """A field's value in a form that compares equal when only its spelling differs."""
    if value is missing or value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return frozenset(str(v) for v in value)
    value = str(value).strip()
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return value
        if isinstance(items, list):
            return frozenset(str(v) for v in items)
    return value


def _changed(pkg: Any, data: dict) -> set[str]:
    """The content fields the validated ``data`` changes (all of them for a new product)."""
    if pkg is None:
        return set(PRODUCT_CONTENT)
    return {f for f in PRODUCT_CONTENT if _norm(data.get((f,))) != _norm(_stored(pkg, f))}


def _put(data: dict, name: str, value: Any) -> None:
    """Set a field after its own validators ran: also its entry among the extras."""
    data[(name,)] = value
    for k in [k for k in data if len(k) == 3 and k[0] == "extras" and k[2] == "key"]:
        if data[k] == name:
            data[("extras", k[1], "value")] = value


def _unpublished(names: list[str]) -> list[str]:
    import ckan.model as model
    out = []
    for name in names:
        res = model.Package.get(str(name))
        if res is None or res.type != "dataset" or res.state != "active" or res.private:
            out.append(str(name))
    return out


def sanyi_filed_by(key: Any, data: dict, errors: dict, context: Any) -> None:
    """Computed (see :func:`sanyi_product_status`): what the product stores; input ignored."""
    pkg = context.get("package")
    data[key] = (pkg.extras.get("filed_by") if pkg is not None else "") or ""


def sanyi_product_review(key: Any, data: dict, errors: dict, context: Any) -> None:
    """The status rules of :func:`sanyi_product_status`, on the validated product."""
    if not context.pop(_REVIEW, False):  # not a product's input (e.g. package_show)
        return
    if any(errors.get((f,)) for f in ("status", "owner_org") + PRODUCT_DRAWS_ON):
        return
    system = bool(context.get("ignore_auth"))
    user = acting_user(context)
    pkg = context.get("package")
    pkg = pkg if pkg is not None and pkg.type == "product" else None
    old = pkg.extras.get("status") if pkg is not None else None
    status = data.get(("status",))
    changed = _changed(pkg, data)
    filed_by = (pkg.extras.get("filed_by") if pkg is not None else "") or ""
    if changed:
        filed_by = user.id if user is not None else ""
    refuse = errors[("status",)].append
    if not system:
        if status == "approved" and old != "approved":
            if not roles.is_bureau_staff(user):
                refuse(bi("只有数据局工作人员可以批准产品上架",
                          "Only bureau staff can approve a product"))
            elif pkg is None:
                refuse(bi("产品不能在创建时直接批准：请先备案，再由数据局审核批准",
                          "A product cannot be created approved: file it, then the bureau "
                          "reviews and approves it"))
            elif changed:
                refuse(bi("修改产品内容的同时不能批准：请先保存修改，再由其他数据局工作人员批准",
                          "A product cannot be approved in the same step that changes its "
                          "content: save the change, then other bureau staff approve it"))
            elif user is not None and filed_by == user.id:
                refuse(bi("备案或最后修改产品内容的人不能批准该产品，须由其他数据局工作人员批准",
                          "Whoever filed the product or last changed its content cannot "
                          "approve it: other bureau staff must"))
        # delisted products stay public: only a product that was approved can get there
        if status == "delisted" and old not in LISTED:
            refuse(bi("只有已批准的产品可以下架", "Only an approved product can be delisted"))
        # what a listed product draws on changed: back to review, private
        if old in LISTED and status in LISTED and changed & set(PRODUCT_DRAWS_ON):
            status = "filed"
    if errors[("status",)]:
        return
    if status == "approved":
        names = json.loads(data.get(("source_resources",)) or "[]")
        bad = _unpublished(names)
        if bad:
            errors[("source_resources",)].append(bi(
                f"已批准（上架）的产品只能使用已公开发布的目录资源，以下资源未公开或已删除："
                f"{'、'.join(bad)}",
                f"An approved (listed) product may only draw on published catalog resources; "
                f"not published or deleted: {', '.join(bad)}"))
            return
    _put(data, "status", status)
    _put(data, "filed_by", filed_by)
    # whatever ``private`` the caller sent: unlisted products are private
    data[("private",)] = status not in LISTED


def sanyi_source_resources(key: Any, data: dict, errors: dict, context: Any) -> None:
    """A list of catalog entries (names or ids) that exist and are not deleted. An approved
    product may only name published ones (public, active): see :func:`sanyi_product_status`."""
    import ckan.model as model
    value = data.get(key)
    if _empty(value):
        data[key] = json.dumps([])
        return
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip().startswith("[") else [value]
        except ValueError:
            value = None
    if not isinstance(value, (list, tuple)) or \
            not all(isinstance(v, str) and v.strip() for v in value):
        errors[key].append(bi("来源数据资源应为目录资源名称的列表",
                              "Source resources must be a list of catalog resource names"))
        return
    names, bad = [], []
    for ref in value:
        pkg = model.Package.get(ref.strip())
        if pkg is None or pkg.type != "dataset" or pkg.state == "deleted":
            bad.append(ref)
        else:
            names.append(pkg.name)
    if bad:
        errors[key].append(bi(f"来源数据资源不存在：{'、'.join(bad)}",
                              f"Unknown source resources: {', '.join(bad)}"))
        return
    data[key] = json.dumps(sorted(set(names)))
