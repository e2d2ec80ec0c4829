"""Portal pages to maintain the catalog without a shell: upload, dry run, confirm, export.

``/organization/<id>/catalog-import``: an editor of the unit (or bureau staff) uploads a
CSV/XLSX file; it is kept in storage under its SHA-256 and planned (``importer.plan_file``)
without writing: the page lists what would be added (with the defaulted fields), changed
(with the changed fields), left unchanged and rejected (row and reason). Confirming sends
back the file's hash and the plan's digest; the stored file is planned again and applied
only if it is the same file and the same plan (the catalog did not change in between),
otherwise the new preview is shown (409). The import is audited. Rows of other units are
rejected. ``/catalog/import`` is the same for bureau staff across units, with the option
to create unknown units. ``/organization/<id>/catalog-export.csv|.xlsx`` is the unit's
catalog in the same layout, to edit and upload again.
"""
from __future__ import annotations

import os
import re
import tempfile
from typing import Any
from urllib.parse import quote

import ckan.model as model
import ckan.plugins.toolkit as tk
from flask import Blueprint, Response

from ..common import audit, clock, tabular
from ..common.i18n_text import bi
from ..common.user import page_context
from . import exporter, importer

__all__ = ["sanyi_catalog_import"]

sanyi_catalog_import = Blueprint("sanyi_catalog_import", __name__)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_EXTS = (".csv", ".xlsx")


def max_bytes() -> int:
    try:
        return max(int(tk.config.get("ckanext.sanyi.catalog.import_max_bytes") or 0), 1024)
    except (TypeError, ValueError):
        return 5 * 1024 * 1024


def _too_large() -> Any:
    """413 with the import's own limit (not the request limit's message)."""
    size = max_bytes()
    text = (f"{size / 1048576:g} MB" if size >= 1048576 else f"{size / 1024:g} KB")
    return tk.render("error_document_template.html", {
        "code": 413, "name": "Request Entity Too Large",
        "content": bi(f"文件过大：导入文件不能超过 {text}",
                      f"File too large: an import file may be at most {text}")}), 413


def _org(id: str | None) -> model.Group | None:
    if id is None:
        return None
    org = model.Group.get(id)
    if org is None or not org.is_organization or org.state != "active":
        return tk.abort(404, bi("未找到该数源单位", "Data unit not found"))
    return org


def _check(org: model.Group | None, create_units: bool = False, action: str = "import") -> None:
    try:
        tk.check_access(f"sanyi_catalog_{action}", page_context(),
                        {"organization": org.id if org else None, "create_units": create_units})
    except tk.NotAuthorized as e:
        tk.abort(403, str(e) or bi("无权导入", "Not authorized to import"))


def _storage() -> str:
    base = tk.config.get("ckan.storage_path") or tempfile.gettempdir()
    path = os.path.join(base, "sanyi", "catalog-imports")
    os.makedirs(path, exist_ok=True)
    return path


def _clean_name(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(c for c in name if c.isprintable())[:120]
    return name or "catalog.csv"


def _store(upload: Any) -> tuple[str, str] | None:
    """Keep the uploaded file under its SHA-256; returns (sha256, path), or None for a
    file over the limit (nothing kept)."""
    limit = max_bytes()
    ext = os.path.splitext(upload.filename or "")[1].lower()
    fd, tmp = tempfile.mkstemp(suffix=ext, dir=_storage())
    size = 0
    with os.fdopen(fd, "wb") as f:
        for block in iter(lambda: upload.stream.read(1 << 16), b""):
            size += len(block)
            if size > limit:
                break
            f.write(block)
    if size > limit:
        os.unlink(tmp)
        return None
    sha = tabular.sha256(tmp)
    path = os.path.join(_storage(), sha + ext)
    os.replace(tmp, path)
    return sha, path


def _stored(sha: str) -> str | None:
    for ext in _EXTS:
        path = os.path.join(_storage(), sha + ext)
        if os.path.exists(path):
            return path
    return None


def _render(org: model.Group | None, status: int = 200, **extra: Any) -> Any:
    page = "sanyi/catalog_import_preview.html" if extra.get("plan") else "sanyi/catalog_import.html"
    if extra.get("report") is not None:
        page = "sanyi/catalog_import_done.html"
    data = {"org": org, "max_mb": f"{max_bytes() / 1048576:g}", "errors": {},
            "bureau_page": org is None, "labels": _labels(), **extra}
    return tk.render(page, data), status


def _labels() -> dict[str, tuple[str, str]]:
    from . import bulk
    labels = dict(bulk.field_labels())
    labels.update({"unit": ("数源单位", "Source unit"), "owner_org": ("数源单位", "Source unit")})
    return labels


def _plan(path: str, org: model.Group | None, create_units: bool, name: str
          ) -> importer.Plan:
    # in this process: forking a web worker mid-request would close the request's session
    return importer.plan_file(path, user=tk.g.user, create_units=create_units,
                              allowed_orgs={org.id} if org else None,
                              default_unit=org.title if org else None, name=name, workers=1)


def _page(id: str | None) -> Any:
    org = _org(id)
    if tk.request.method == "POST" and (tk.request.content_length or 0) > max_bytes() + 65536:
        return _too_large()
    create_units = org is None and tk.request.form.get("create_units") == "1"
    _check(org, create_units)
    if tk.request.method != "POST":
        return _render(org)
    upload = tk.request.files.get("file")
    if upload is None or not upload.filename:
        return _render(org, 400, errors={"file": [bi("请选择要上传的 CSV 或 XLSX 文件",
                                                      "Choose a CSV or XLSX file to upload")]})
    name = _clean_name(upload.filename)
    if os.path.splitext(name)[1].lower() not in _EXTS:
        return _render(org, 400, errors={"file": [bi(
            f"不支持的文件类型“{os.path.splitext(name)[1] or name}”，请上传 CSV 或 XLSX 文件",
            "Unsupported file type: upload a CSV or XLSX file")]})
    stored = _store(upload)
    if stored is None:
        return _too_large()
    sha, path = stored
    try:
        plan = _plan(path, org, create_units, name)
    except importer.ImportFileError as e:
        return _render(org, 400, errors=e.error_dict)
    return _render(org, plan=plan, digest=plan.digest(), create_units=create_units)


def _confirm(id: str | None) -> Any:
    org = _org(id)
    form = tk.request.form
    create_units = org is None and form.get("create_units") == "1"
    _check(org, create_units)
    sha, digest = form.get("sha256", ""), form.get("digest", "")
    name = _clean_name(form.get("file_name", ""))
    if not _HEX64.match(sha) or not _HEX64.match(digest):
        return _render(org, 400, errors={"file": [bi("确认请求不完整，请重新上传文件",
                                                      "Incomplete confirmation: upload the file again")]})
    path = _stored(sha)
    if path is None:
        return _render(org, 400, errors={"file": [bi("预览的文件已不存在，请重新上传",
                                                      "The previewed file is gone: upload it again")]})
    if tabular.sha256(path) != sha:
        return _render(org, 409, errors={"file": [bi("文件在预览之后已被改动，请重新上传",
                                                      "The file changed after the preview: upload it again")]})
    try:
        plan = _plan(path, org, create_units, name)
    except importer.ImportFileError as e:
        return _render(org, 400, errors=e.error_dict)
    if plan.digest() != digest:
        return _render(org, 409, plan=plan, digest=plan.digest(), create_units=create_units,
                       stale=True)
    report = importer.apply_plan(plan)
    audit.record(tk.g.user, "catalog_import", "organization", org.id if org else "*",
                 after={"file": plan.file, "sha256": plan.sha256, "digest": digest,
                        "created": report.created, "updated": report.updated,
                        "unchanged": report.unchanged, "units_created": report.units_created,
                        "errors": len(report.errors),
                        "error_rows": [e.row for e in report.errors[:1000]]},
                 commit=True)
    return _render(org, report=report, plan=plan)


def _export(id: str, fmt: str) -> Any:
    org = _org(id)
    assert org is not None
    _check(org, action="export")
    rows = exporter.export_rows(org)
    name = f"{org.name}-catalog-{clock.today().isoformat()}.{fmt}"
    zh_name = f"{org.title}-目录-{clock.today().isoformat()}.{fmt}"
    if fmt == "xlsx":
        body = exporter.to_xlsx(org, rows)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = exporter.to_csv(org, rows)
        mime = "text/csv; charset=utf-8"
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; "
                               f"filename*=UTF-8''{quote(zh_name)}",
        "Cache-Control": "no-store"})


@sanyi_catalog_import.route("/organization/<id>/catalog-import", methods=["GET", "POST"])
def unit_import(id: str) -> Any:
    return _page(id)


@sanyi_catalog_import.route("/organization/<id>/catalog-import/confirm", methods=["POST"])
def unit_confirm(id: str) -> Any:
    return _confirm(id)


@sanyi_catalog_import.route("/catalog/import", methods=["GET", "POST"])
def bureau_import() -> Any:
    return _page(None)


@sanyi_catalog_import.route("/catalog/import/confirm", methods=["POST"])
def bureau_confirm() -> Any:
    return _confirm(None)


@sanyi_catalog_import.route("/organization/<id>/catalog-export.csv")
def export_csv(id: str) -> Any:
    return _export(id, "csv")


@sanyi_catalog_import.route("/organization/<id>/catalog-export.xlsx")
def export_xlsx(id: str) -> Any:
    return _export(id, "xlsx")
