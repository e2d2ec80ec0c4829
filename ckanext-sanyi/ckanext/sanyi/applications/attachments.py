"""Application attachments: uploaded files or links.

* **Files** are saved under ``{ckan.storage_path}/sanyi/attachments/<application id>/
  <attachment id>`` (no user-chosen path part) with a ``sanyi_application_attachment`` row
  keeping the original name, size and type; they are served only to those who may see the
  application (``/application/<id>/attachment/<attachment id>``). Allowed types:
  :data:`EXTENSIONS`; at most ``ckan.max_resource_size`` MB each, at most
  :data:`MAX_FILES` files a request (more is a field error, never a silent drop; the whole
  request is bounded by ``ckanext.sanyi.max_request_bytes``).
* **Serving.** The content type is the one of the checked extension (:data:`EXTENSIONS`),
  never the one the browser sent; every file is sent as a download
  (``Content-Disposition: attachment``) with ``X-Content-Type-Options: nosniff`` and a
  sandboxing ``Content-Security-Policy``, so an uploaded file never renders as a page of the
  portal.
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

__all__ = ["EXTENSIONS", "MAX_FILES", "parse", "save", "remove", "for_application", "get",
           "file_path", "content_type", "response", "write_file", "clean_name", "max_bytes",
           "is_upload"]

# the allowed extensions and the content type each is served with
EXTENSIONS = {
    "pdf": "application/pdf", "ofd": "application/ofd",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv", "txt": "text/plain", "png": "image/png", "jpg": "image/jpeg",
    "jpeg": "image/jpeg", "zip": "application/zip",
}
_WRITTEN = "sanyi_written_files"
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)
MAX_FILES = 10
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


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def content_type(name: str) -> str:
    """The content type a file named ``name`` is served with (from its extension)."""
    return EXTENSIONS.get(_extension(name), "application/octet-stream")


def _uploads(data: dict[str, Any]) -> list[Any]:
    """Every file sent as ``attachment_upload``. CKAN's API view passes only the first file
    of a multipart field on; the request still holds them all."""
    uploads = data.get("attachment_upload")
    uploads = list(uploads) if isinstance(uploads, (list, tuple)) else [uploads] if uploads else []
    if len(uploads) == 1 and _is_upload(uploads[0]):
        try:
            sent = tk.request.files.getlist("attachment_upload")
        except RuntimeError:  # outside a request
            sent = []
        if any(f is uploads[0] for f in sent):
            uploads = list(sent)
    return uploads


def parse(data: dict[str, Any], errors: Errors) -> list[dict[str, Any]]:
    """New attachments in the request: ``attachment_upload`` (file(s)) and ``attachment_urls``
    (URL strings, or ``{"name", "url"}``; a list or JSON text). Nothing is written here."""
    out: list[dict[str, Any]] = []
    uploads = _uploads(data)
    if any(not _is_upload(up) for up in uploads):
        errors.add(DomainError("attachment_upload", "附件须以文件上传（multipart/form-data）",
                               "Attachments must be uploaded as files (multipart/form-data)"))
    uploads = [up for up in uploads if _is_upload(up) and up.filename]  # empty file inputs
    if len(uploads) > MAX_FILES:
        errors.add(DomainError("attachment_upload",
                               f"一次最多上传 {MAX_FILES} 个附件文件（收到 {len(uploads)} 个）",
                               f"At most {MAX_FILES} attachment files at a time "
                               f"({len(uploads)} sent)"))
        uploads = []
    for up in uploads:
        name = _clean_name(up.filename)
        ext = _extension(name)
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
                    "mimetype": EXTENSIONS[ext]})  # never the type the browser sent
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


def write_file(path: str, content: bytes) -> None:
    """Write a stored file in the caller's transaction: deleted again if it is rolled back."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.Session.info.setdefault(_WRITTEN, []).append(path)
    with open(path, "wb") as fh:
        fh.write(content)


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
            write_file(os.path.join(_root(), key), item["content"])
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


def response(att: dict[str, Any]) -> Any:
    """A stored file as a download, typed by its extension (see the module doc)."""
    from flask import send_file
    res = send_file(file_path(att), mimetype=content_type(att["name"]), as_attachment=True,
                    download_name=att["name"], max_age=0)
    res.headers["X-Content-Type-Options"] = "nosniff"
    res.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    res.headers["Cache-Control"] = "private, no-store"
    return res


clean_name, max_bytes, is_upload = _clean_name, _max_bytes, _is_upload


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
