"""A report's figures (:mod:`.build`) as HTML, PDF and XLSX.

* The report's body (``sanyi/reports/_body.html``: key figures, charts, tables) is one
  template. The page includes it in the portal's layout; the PDF is WeasyPrint's rendering
  of the same body in a print document (``sanyi/reports/print.html``, A4, Noto CJK fonts —
  Debian ``fonts-noto-cjk`` — so the Chinese renders), drawn by a plain Jinja environment
  so that it needs no request (the CLI renders it too).
* The body reads only what :func:`variables` gives it: the report, ``zh``, ``t(zh, en)``,
  ``cell(value, column)`` (a label in the language, a count grouped, fen as yuan) and the
  charts as SVG markup (:func:`..common.charts.hbars`).
* The XLSX holds a summary sheet and one sheet per table, money in yuan with two decimals.
"""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ...common import charts
from ...common.money import format_yuan

__all__ = ["pick", "variables", "body", "document", "pdf", "xlsx", "TEMPLATES"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True)


def pick(value: Any, zh: bool) -> Any:
    """A ``[zh, en]`` label in the language; any other value as it is."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value[0] if zh else value[1]
    return value


def _cell(value: Any, column: dict[str, Any], zh: bool) -> str:
    value = pick(value, zh)
    if value is None or value == "":
        return "—" if column.get("num") else ""
    if column.get("money") and isinstance(value, int):
        return format_yuan(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _chart(report: dict[str, Any], spec: dict[str, Any], zh: bool) -> Markup:
    table = next((t for t in report["tables"] if t["id"] == spec["table"]), None)
    rows = table["rows"] if table else []
    labels = [str(pick(r.get(spec["label"]), zh)) for r in rows]
    series = [(zh_name if zh else en_name, [int(r.get(key) or 0) for r in rows])
              for key, zh_name, en_name in spec["series"]]
    return Markup(charts.hbars(labels, series, title=str(pick(spec["title"], zh)),
                               chart_id=spec["id"], empty="无数据" if zh else "no data"))


def variables(report: dict[str, Any], zh: bool = True, **extra: Any) -> dict[str, Any]:
    """What the body template reads (see the module docstring)."""
    return {"report": report, "zh": zh,
            "t": lambda a, b: a if zh else b,
            "pick": lambda v: pick(v, zh),
            "cell": lambda v, c: _cell(v, c, zh),
            "charts": {c["id"]: _chart(report, c, zh) for c in report["charts"]},
            "money": format_yuan, **extra}


def body(report: dict[str, Any], zh: bool = True, **extra: Any) -> str:
    return _env.get_template("sanyi/reports/_body.html").render(variables(report, zh, **extra))


def document(report: dict[str, Any], zh: bool = True, **extra: Any) -> str:
    """The print document: the body in an A4 page with the report's own styles."""
    return _env.get_template("sanyi/reports/print.html").render(variables(report, zh, **extra))


def pdf(report: dict[str, Any], zh: bool = True, **extra: Any) -> bytes:
    """The PDF of :func:`document` (WeasyPrint)."""
    import weasyprint
    return bytes(weasyprint.HTML(string=document(report, zh, **extra),
                                 base_url=str(TEMPLATES)).write_pdf())


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "sheet"
    base, n = name, 2
    while name in used:
        name, n = f"{base[:26]}-{n}", n + 1
    used.add(name)
    return name


def _xlsx_value(value: Any, column: dict[str, Any], zh: bool) -> Any:
    value = pick(value, zh)
    if column.get("money") and isinstance(value, int):
        return Decimal(value).scaleb(-2)
    return value


def xlsx(report: dict[str, Any], zh: bool = True) -> bytes:
    """The report's tables as an XLSX workbook (a summary sheet, then one per table)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    used: set[str] = set()
    sheet.title = _sheet_name("摘要" if zh else "Summary", used)
    sheet.append([pick(report["title"], zh)])
    sheet["A1"].font = Font(bold=True)
    sheet.append([("期间" if zh else "Period"), f"{report['first']} — {report['last']}"])
    sheet.append([("数据截至" if zh else "Figures as of"), report["as_of"]])
    for item in report["summary"]:
        value = Decimal(item["value"]).scaleb(-2) if item["money"] else item["value"]
        sheet.append([pick(item["label"], zh), value])
        if item["money"]:
            sheet.cell(row=sheet.max_row, column=2).number_format = "#,##0.00"
    for table in report["tables"]:
        ws = book.create_sheet(_sheet_name(str(pick(table["title"], zh)), used))
        ws.append([pick(c["label"], zh) for c in table["columns"]])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        rows = table["rows"] + ([table["total"]] if table.get("total") else [])
        for row in rows:
            ws.append([_xlsx_value(row.get(c["key"]), c, zh) for c in table["columns"]])
            for i, c in enumerate(table["columns"], start=1):
                if c.get("money"):
                    ws.cell(row=ws.max_row, column=i).number_format = "#,##0.00"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
