"""Application attachments: uploaded files or links.

* **Files** are saved under ``{ckan.storage_path}/sanyi/attachments/<application id>/
  <attachment id>`` (no user-chosen path part) with a ``sanyi_application_attachment`` row
  keeping the original name, size and type; they are served only to those who may see the
  application (``/application/<id>/attachment/<attachment id>``). Allowed types:
  :data:`EXTENSIONS`; at most ``ckan.max_resource_size`` MB each.
* **Links** (``http``/``https`` URLs) are stored as rows only.
* A file written in a transaction that is rolled back is deleted again (an
  ``after_rollback`` hook), so a refused request leaves no stray file.
* Attachments are never deleted: removing one (draft or returned only) marks it ``removed``.
"""
from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ..domain.errors import DomainError
from .forms import Errors
from .model import attachment_table

__all__ = ["EXTENSIONS", "parse", "save", "remove", "for_application", "get", "file_path"]

EXTENSIONS = frozenset({"pdf", "ofd", "doc", "docx", "xls", "xlsx", "csv", "txt", "png", "jpg",
                        "jpeg", "zip"})
_WRITTEN = "sanyi_written_files"
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)
MAX_PER_REQUEST = 20


def _root() -> str:
    return os.path.join(tk.config.get("ckan.storage_path") or "", "sanyi", "attachments")


def _max_bytes() -> int:
    return int(tk.config.get("ckan.max_resource_size") or 10) * 1024 * 1024


def _clean_name(name: str) -> str:
    name = os.path.basename(str(name).replace("\\", "/"))
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return name[:200] or "attachment"


def _is_upload(value: Any) -> bool:
    return hasattr(value, "filename") and hasattr(value, "stream")


def parse(data: dict[str, Any], errors: Errors) -> list[dict[str, Any]]:
    """New attachments in the request: ``attachment_upload`` (file(s)) and ``attachment_urls``
    (URL strings, or ``{"name", "url"}``; a list or JSON text). Nothing is written here."""
    out: list[dict[str, Any]] = []
    uploads = data.get("attachment_upload")
    uploads = uploads if isinstance(uploads, (list, tuple)) else [uploads] if uploads else []
    for up in uploads:
        if not _is_upload(up) or not up.filename:
            continue
        name = _clean_name(up.filename)
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in EXTENSIONS:
            errors.add(DomainError("attachment_upload",
                                   f"不支持的附件类型：{name}（可用：{', '.join(sorted(EXTENSIONS))}）",
                                   f"File type not allowed: {name} "
                                   f"(allowed: {', '.join(sorted(EXTENSIONS))})"))
            continue
        content = up.stream.read(_max_bytes() + 1)
        if len(content) > _max_bytes():
            errors.add(DomainError("attachment_upload",
                                   f"附件过大：{name}（每个不超过 {_max_bytes() // 1048576} MB）",
                                   f"File too large: {name} (at most {_max_bytes() // 1048576} MB)"))
            continue
        if not content:
            errors.add(DomainError("attachment_upload", f"附件为空：{name}", f"Empty file: {name}"))
            continue
        out.append({"kind": "file", "name": name, "content": content,
                    "mimetype": getattr(up, "mimetype", "") or "application/octet-stream"})
    raw = data.get("attachment_urls")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip().startswith("[") else \
                [u for u in raw.split() if u.strip()]
        except ValueError:
            raw = [raw]
    for item in raw or []:
        name, url = (item.get("name"), item.get("url")) if isinstance(item, dict) else (None, item)
        url = str(url or "").strip()
        if not _URL.match(url) or len(url) > 2000:
            errors.add(DomainError("attachment_urls", f"附件链接无效（须以 http:// 或 https:// 开头）：{url}",
                                   f"Invalid attachment link (must start with http:// or https://): {url}"))
            continue
        out.append({"kind": "url", "name": _clean_name(name or url.rsplit("/", 1)[-1] or url),
                    "url": url})
    if len(out) > MAX_PER_REQUEST:
        errors.add(DomainError("attachment_upload", f"一次最多添加 {MAX_PER_REQUEST} 个附件",
                               f"At most {MAX_PER_REQUEST} attachments at a time"))
    return out


def save(application_id: str, items: list[dict[str, Any]], user_name: str) -> list[str]:
    """Write the parsed attachments (rows in the caller's transaction); returns their ids."""
    ids = []
    for item in items:
        att_id = str(uuid.uuid4())
        row = {"id": att_id, "application_id": application_id, "kind": item["kind"],
               "name": item["name"], "uploaded_by": user_name, "url": item.get("url", ""),
               "mimetype": item.get("mimetype", ""), "storage_key": "", "size": None}
        if item["kind"] == "file":
            key = f"{application_id}/{att_id}"
            path = os.path.join(_root(), key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            model.Session.info.setdefault(_WRITTEN, []).append(path)
            with open(path, "wb") as fh:
                fh.write(item["content"])
            row.update(storage_key=key, size=len(item["content"]))
        model.Session.execute(attachment_table.insert().values(**row))
        ids.append(att_id)
    return ids


def remove(application_id: str, ids: list[str]) -> list[str]:
    """Mark attachments removed; returns the ids that were active."""
    if not ids:
        return []
    t = attachment_table
    rows = model.Session.execute(
        t.update().where(t.c.application_id == application_id, t.c.id.in_(ids),
                         t.c.state == "active").values(state="removed").returning(t.c.id))
    return [r[0] for r in rows]


def for_application(application_id: str) -> list[dict[str, Any]]:
    t = attachment_table
    rows = model.Session.execute(sa.select(t).where(t.c.application_id == application_id,
                                                    t.c.state == "active")
                                 .order_by(t.c.created, t.c.id)).mappings()
    return [{"id": r["id"], "kind": r["kind"], "name": r["name"], "url": r["url"],
             "size": r["size"], "mimetype": r["mimetype"], "uploaded_by": r["uploaded_by"],
             "created": r["created"].isoformat() if r["created"] else None} for r in rows]


def get(application_id: str, attachment_id: str) -> dict[str, Any] | None:
    t = attachment_table
    row = model.Session.execute(sa.select(t).where(
        t.c.application_id == application_id, t.c.id == attachment_id,
        t.c.state == "active")).mappings().first()
    return dict(row) if row else None


def file_path(att: dict[str, Any]) -> str:
    return os.path.join(_root(), att["storage_key"])


def _after_rollback(session: Any) -> None:
    for path in session.info.pop(_WRITTEN, None) or []:
        try:
            os.remove(path)
        except OSError:
            pass


def _after_commit(session: Any) -> None:
    session.info.pop(_WRITTEN, None)


for _event, _fn in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
    if not sa.event.contains(model.Session, _event, _fn):
        sa.event.listen(model.Session, _event, _fn)
