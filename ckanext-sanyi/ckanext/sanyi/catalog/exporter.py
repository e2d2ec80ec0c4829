"""Export of a unit's catalog resources in the import layout: a filled template to edit and
upload again (export → import changes nothing).

The first row is a title naming the unit and the day (the importer skips title rows above the
header), the second the header (``import_rows.COLUMNS`` in Chinese), then one row per active
catalog resource of the unit, ordered by title: choices by their Chinese labels, lists joined
by 、, dates as ISO dates. CSV is UTF-8 with a BOM (Excel on Chinese Windows opens it as
such); XLSX is one worksheet with the header frozen.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any

import ckan.model as model

from ..common import clock
from .import_rows import CHOICE_FIELDS, COLUMNS, ZH_HEADER, display

__all__ = ["export_rows", "to_csv", "to_xlsx", "title_row"]


def title_row(org: model.Group) -> list[str]:
    day = clock.today().isoformat()
    return [f"公共数据资源目录 · {org.title} · 导出于 {day}（修改后可在“批量导入”重新上传；第 2 行为表头）"
            f" / Catalog of {org.name} exported on {day} (edit and upload again; row 2 is the header)"]


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value or "[]")
    except ValueError:
        return [str(value)]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def export_rows(org: model.Group) -> list[list[str]]:
    """The header and one row per active catalog resource of ``org``."""
    pkgs = (model.Session.query(model.Package)
            .filter(model.Package.owner_org == org.id, model.Package.type == "dataset",
                    model.Package.state == "active")
            .order_by(model.Package.title, model.Package.name))
    out = [[ZH_HEADER[c] for c in COLUMNS]]
    for number, pkg in enumerate(pkgs, start=1):
        extras = pkg.extras or {}
        values = {"seq": str(number), "unit": org.title or org.name, "title": pkg.title or "",
                  "notes": pkg.notes or "", "title_en": str(extras.get("title_en") or ""),
                  "delivery_methods": display("delivery_methods",
                                              _list(extras.get("delivery_methods"))),
                  "last_updated": str(extras.get("last_updated") or ""),
                  "batch": str(extras.get("batch") or "")}
        for key in CHOICE_FIELDS:
            values[key] = display(key, extras.get(key) or "")
        out.append([values[c] for c in COLUMNS])
    return out


def to_csv(org: model.Group, rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(title_row(org))
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(org: model.Group, rows: list[list[str]]) -> bytes:
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "目录 catalog"
    ws.append(title_row(org))
    for row in rows:
        ws.append(row)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A3"
    for letter, width in zip("ABCDEFGHIJK", (6, 16, 36, 16, 10, 10, 18, 12, 14, 40, 10),
                             strict=False):
        ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
