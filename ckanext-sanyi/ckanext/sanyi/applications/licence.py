"""Merchants' business licences (营业执照): uploaded with the profile, shown to the bureau that
verifies the merchant.

One file per upload (``business_licence``: PDF, OFD, PNG or JPEG, at most
``ckan.max_resource_size`` MB), stored under ``{ckan.storage_path}/sanyi/licences/<merchant
id>/<licence id>`` with a ``sanyi_merchant_licence`` row (name, type from the checked
extension, size, SHA-256). A new upload replaces the active one (kept, marked ``replaced``).
Served only to the merchant's own account, bureau staff and sysadmins: images inline (for the
verification page), other types as downloads, always with ``nosniff`` and a sandboxing
``Content-Security-Policy``.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ..domain.errors import DomainError
from . import attachments
from .forms import Errors
from .model import licence_table as t

__all__ = ["FIELD", "TYPES", "parse", "save", "current", "response"]

FIELD = "business_licence"
TYPES = {"pdf": "application/pdf", "ofd": "application/ofd", "png": "image/png",
         "jpg": "image/jpeg", "jpeg": "image/jpeg"}
INLINE = {"image/png", "image/jpeg"}


def _root() -> str:
    return os.path.join(tk.config.get("ckan.storage_path") or "", "sanyi", "licences")


def parse(data: dict[str, Any], errors: Errors) -> dict[str, Any] | None:
    """The licence file in the request, checked (nothing written), or None if none was sent."""
    upload = data.get(FIELD)
    if upload is None or upload == "":
        return None
    if not attachments.is_upload(upload):
        errors.add(DomainError(FIELD, "营业执照须以文件上传（multipart/form-data）",
                               "The business licence must be uploaded as a file "
                               "(multipart/form-data)"))
        return None
    if not upload.filename:  # an empty file input
        return None
    name = attachments.clean_name(upload.filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in TYPES:
        errors.add(DomainError(FIELD, f"营业执照须为 PDF、OFD、PNG 或 JPG 文件：{name}",
                               f"The business licence must be a PDF, OFD, PNG or JPG file: {name}"))
        return None
    limit = attachments.max_bytes()
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        errors.add(DomainError(FIELD, f"营业执照文件过大（不超过 {limit // 1048576} MB）",
                               f"The business licence file is too large (at most "
                               f"{limit // 1048576} MB)"))
        return None
    if not content:
        errors.add(DomainError(FIELD, "营业执照文件为空", "The business licence file is empty"))
        return None
    return {"name": name, "mimetype": TYPES[ext], "content": content,
            "sha256": hashlib.sha256(content).hexdigest()}


def save(merchant_id: str, item: dict[str, Any], user_name: str) -> dict[str, Any]:
    """Store the checked licence (in the caller's transaction) as the merchant's active one."""
    licence_id = str(uuid.uuid4())
    key = f"{merchant_id}/{licence_id}"
    attachments.write_file(os.path.join(_root(), key), item["content"])
    model.Session.execute(t.update().where(t.c.merchant_id == merchant_id, t.c.state == "active")
                          .values(state="replaced"))
    row = {"id": licence_id, "merchant_id": merchant_id, "name": item["name"],
           "mimetype": item["mimetype"], "size": len(item["content"]), "sha256": item["sha256"],
           "storage_key": key, "uploaded_by": user_name}
    model.Session.execute(t.insert().values(**row))
    return row


def current(merchant_id: str) -> dict[str, Any] | None:
    row = model.Session.execute(sa.select(t).where(t.c.merchant_id == merchant_id,
                                                   t.c.state == "active")).mappings().first()
    if row is None:
        return None
    return {"id": row["id"], "name": row["name"], "mimetype": row["mimetype"],
            "size": row["size"], "sha256": row["sha256"], "image": row["mimetype"] in INLINE,
            "uploaded_by": row["uploaded_by"],
            "created": row["created"].isoformat() if row["created"] else None,
            "storage_key": row["storage_key"]}


def response(row: dict[str, Any]) -> Any:
    from flask import send_file
    image = row["mimetype"] in INLINE
    res = send_file(os.path.join(_root(), row["storage_key"]), mimetype=row["mimetype"],
                    as_attachment=not image, download_name=row["name"], max_age=0)
    res.headers["X-Content-Type-Options"] = "nosniff"
    res.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    res.headers["Cache-Control"] = "private, no-store"
    return res
