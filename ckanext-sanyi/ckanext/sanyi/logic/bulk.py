"""Write a batch of validated catalog rows: create new ones, patch changed ones, skip the rest.

New rows go through ``package_create`` with ``defer_commit`` (CKAN's own validation and
saving, but no per-row index write or commit); the batch is then committed once and
indexed in bulk. Each row runs in a savepoint, so a row that fails leaves nothing behind
and does not disturb the others.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..i18n_text import bi
from ..search import rebuild


def _error_text(errors: dict[str, Any]) -> str:
    parts = []
    for key, msgs in errors.items():
        if isinstance(msgs, list):
            msgs = "; ".join(str(m) for m in msgs)
        parts.append(f"{key}: {msgs}")
    return " | ".join(parts)


def _same(existing: model.Package, data: dict[str, Any], compared: Iterable[str]) -> bool:
    extras = existing.extras or {}
    for key in compared:
        new = data.get(key)
        if key in ("title", "notes"):
            old = getattr(existing, key) or ""
            if (new or "") != old:
                return False
            continue
        old = extras.get(key, "")
        if key == "delivery_methods":
            old_list = json.loads(old) if old.startswith("[") else []
            if sorted(old_list) != sorted(_codes(new)):
                return False
            continue
        if (new or "") != old:
            return False
    return existing.state == "active" and existing.owner_org == data["owner_org"]


_METHOD_CODES = {"接口": "api", "库表": "table", "文件": "file"}


def _codes(value: Any) -> list[str]:
    if isinstance(value, list):
        items = value
    else:
        items = [v for v in str(value or "").replace("；", ";").replace(",", ";").split(";")]
    return [_METHOD_CODES.get(v.strip(), v.strip()) for v in items if v.strip()]


def write_batch(rows: list[tuple[int, dict[str, Any]]], user: str, report: Any,
                compared: Iterable[str]) -> None:
    from .importer import RowError
    names = [d["name"] for _, d in rows]
    existing = {p.name: p for p in model.Session.query(model.Package)
                .filter(model.Package.name.in_(names))}
    created_ids: list[str] = []
    for number, data in rows:
        pkg = existing.get(data["name"])
        if pkg is not None and _same(pkg, data, compared):
            report.unchanged += 1
            continue
        context = {"user": user, "ignore_auth": True, "defer_commit": True,
                   "return_id_only": True}
        savepoint = model.Session.begin_nested()
        try:
            if pkg is None:
                created_ids.append(tk.get_action("package_create")(context, dict(data)))
                report.created += 1
            else:
                patch = dict(data, id=pkg.id)
                patch.pop("name")
                context.pop("defer_commit")
                context.pop("return_id_only")
                tk.get_action("package_patch")(context, patch)
                report.updated += 1
            savepoint.commit()
        except tk.ValidationError as e:
            savepoint.rollback()
            report.errors.append(RowError(number, _error_text(e.error_dict)))
        except Exception as e:  # a row must never take the batch down with it
            savepoint.rollback()
            report.errors.append(RowError(number, bi(f"写入失败：{e}", f"Write failed: {e}")))
    model.repo.commit()
    if created_ids:
        rebuild.index_ids(created_ids)
        model.repo.commit()
