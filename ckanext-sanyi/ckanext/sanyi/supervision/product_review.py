"""The bureau's queue of products awaiting approval (已备案) and its two decisions.

* **approve**: the product becomes 已批准（上架）through CKAN's ``package_patch`` (the
  product schema's status rules decide: bureau staff only, never whoever filed the product
  or last changed its content, only drawing on published resources);
* **return** with a comment (required): back to 草稿 through ``package_patch``.

Each decision and its audit record (``sanyi_product_approve`` / ``sanyi_product_return``,
object ``product``; the comment is kept in the record's ``after``) are committed together
(in ``package_patch``'s commit), or not at all. The returns' comments are read back from the audit log
(:func:`reviews`), which keeps them unchangeable.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..common import audit
from ..common.i18n_text import bi
from ..common.ids import id_problem

__all__ = ["DECISIONS", "ACTIONS", "MAX_COMMENT", "queue", "decide", "reviews", "product_of"]

DECISIONS = {"approve": "approved", "return": "draft"}
ACTIONS = {"approve": "sanyi_product_approve", "return": "sanyi_product_return"}
MAX_COMMENT = 1000


def _user_names(ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = model.Session.query(model.User.id, model.User.name).filter(model.User.id.in_(ids))
    return dict(rows.all())


def queue() -> list[dict[str, Any]]:
    """Products filed (已备案) and not deleted, oldest change first: ``id``, ``name``,
    ``title``, ``owner_org``, ``category``, ``supplying_units``, ``source_resources``,
    ``filed_by`` (a user id), ``filed_by_name``, ``modified`` (ISO, UTC)."""
    from .figures import _listed
    status = model.Package.extras["status"].astext
    rows = (model.Session.query(model.Package, model.Group)
            .outerjoin(model.Group, model.Group.id == model.Package.owner_org)
            .filter(model.Package.type == "product", model.Package.state == "active",
                    status == "filed")
            .order_by(model.Package.metadata_modified, model.Package.name).all())
    names = _user_names({(p.extras or {}).get("filed_by") or "" for p, _ in rows} - {""})
    out = []
    for pkg, org in rows:
        extras = pkg.extras or {}
        filed_by = extras.get("filed_by") or ""
        out.append({"id": pkg.id, "name": pkg.name, "title": pkg.title or pkg.name,
                    "owner_org": org.title if org is not None else "",
                    "category": extras.get("category", ""), "scenario": extras.get("scenario", ""),
                    "supplying_units": _listed(extras.get("supplying_units")),
                    "source_resources": _listed(extras.get("source_resources")),
                    "filed_by": filed_by, "filed_by_name": names.get(filed_by, ""),
                    "modified": pkg.metadata_modified.isoformat()
                    if pkg.metadata_modified else None})
    return out


def product_of(ref: Any) -> model.Package:
    """The product named or identified by ``ref``; ``tk.ObjectNotFound`` otherwise."""
    pkg = model.Package.get(ref.strip()) if isinstance(ref, str) else None
    if pkg is None or pkg.type != "product" or pkg.state != "active":
        raise tk.ObjectNotFound(bi("未找到该产品", "Product not found"))
    return pkg


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _input(data: Mapping[str, Any]) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    ref = data.get("id")
    if (problem := id_problem(ref)) is not None:
        errors["id"] = [problem]
    decision = data.get("decision")
    if not isinstance(decision, str) or decision not in DECISIONS:
        errors["decision"] = [bi("处理决定须为 approve（批准）或 return（退回）",
                                 "decision must be approve or return")]
    comment = data.get("comment")
    comment = "" if comment is None else comment
    if not isinstance(comment, str) or "\x00" in comment or _unencodable(comment):
        errors["comment"] = [bi("意见须为文本（不含 NUL 或无效字符）",
                                "comment must be text (no NUL nor invalid characters)")]
        comment = ""
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [bi(f"意见过长（最多 {MAX_COMMENT} 字）",
                                f"comment too long ({MAX_COMMENT} characters at most)")]
    elif decision == "return" and not comment and "comment" not in errors:
        errors["comment"] = [bi("退回须填写意见，说明需要修改之处",
                                "a return needs a comment saying what to change")]
    if errors:
        raise tk.ValidationError(errors)
    return str(ref).strip(), str(decision), comment


def decide(user: model.User, data: Mapping[str, Any]) -> dict[str, Any]:
    """Approve or return a filed product as ``user``: the change and its audit record are
    committed together by ``package_patch``. ``tk.ValidationError`` for bad input or a
    product not awaiting approval (409), or one the status rules refuse; ``ObjectNotFound``
    for no such product."""
    ref, decision, comment = _input(data)
    pkg = product_of(ref)
    status = (pkg.extras or {}).get("status")
    if status != "filed":
        raise tk.ValidationError({"status": [bi(
            f"只有已备案的产品可以批准或退回（当前状态：{status or '—'}）",
            f"only a filed product can be approved or returned (its status: {status or '—'})")]})
    filed_by = (pkg.extras or {}).get("filed_by") or ""
    target = DECISIONS[decision]
    after: dict[str, Any] = {"status": target}
    if comment:
        after["comment"] = comment
    # the audit record first: package_update commits it with the change, or rolls both back
    # on a refusal (CKAN 2.12's package_update drops its change under ``defer_commit``)
    audit.record(user.name, ACTIONS[decision], "product", pkg.id,
                 before={"status": status, "filed_by": _user_names({filed_by}).get(filed_by, filed_by),
                         "title": pkg.title}, after=after)
    updated = tk.get_action("package_patch")({"user": user.name},
                                             {"id": pkg.id, "status": target})
    return {"id": pkg.id, "name": pkg.name, "title": pkg.title, "decision": decision,
            "status": updated.get("status"), "comment": comment}


def reviews(product_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest decisions (of one product, or of all), newest first: ``actor``,
    ``action``, ``decision``, ``comment``, ``created`` and the product's ``object_id``."""
    found = []
    for action, decision in ((ACTIONS["approve"], "approve"), (ACTIONS["return"], "return")):
        for row in audit.list(action=action, object_type="product", object_id=product_id,
                              limit=limit):
            found.append(dict(row, decision=decision,
                              comment=(row.get("after") or {}).get("comment", ""),
                              title=(row.get("before") or {}).get("title", "")))
    found.sort(key=lambda r: r["id"], reverse=True)
    return found[:limit]
