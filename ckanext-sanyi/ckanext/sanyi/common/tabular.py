"""Reading CSV and XLSX files row by row: one reader for every import of tabular files.

:func:`rows` yields each row of the file as a list of cell values, the header first: strings
for CSV (UTF-8 with or without BOM, or GB18030 as Excel on Chinese Windows saves it), the
values openpyxl reads for XLSX (``str``, ``int``, ``float``, ``datetime``, ``None``) from the
first worksheet. A file that cannot be read raises :class:`UnreadableFile` (carrying the
reason in Chinese and English) when the first row is asked for, before any row is yielded.
:func:`sha256` is the digest of the file's bytes; :func:`length_hint` about how many data rows
it has (for a progress bar).
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["UnreadableFile", "rows", "csv_rows", "xlsx_rows", "sha256", "length_hint",
           "EXTENSIONS"]

EXTENSIONS = (".csv", ".txt", ".xlsx", ".xlsm")


class UnreadableFile(Exception):
    """The file as a whole cannot be read: ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.zh = zh
        self.en = en

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


def rows(path: str) -> Iterator[list[Any]]:
    """The rows of a CSV or XLSX file (by its extension), header first."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".xlsx", ".xlsm"):
        return xlsx_rows(path)
    if ext in (".csv", ".txt"):
        return csv_rows(path)
    raise UnreadableFile(f"不支持的文件类型“{ext}”，请使用 CSV 或 XLSX",
                         f"Unsupported file type '{ext}': use CSV or XLSX")


def csv_rows(path: str) -> Iterator[list[str]]:
    with open(path, "rb") as f:
        raw = f.read()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile("无法识别文件编码（应为 UTF-8 或 GB18030）",
                             "Unknown text encoding (use UTF-8 or GB18030)")
    try:
        yield from csv.reader(io.StringIO(text))
    except csv.Error as e:
        raise UnreadableFile(f"CSV 格式错误：{e}", f"Malformed CSV: {e}") from e


def xlsx_rows(path: str) -> Iterator[list[Any]]:
    import openpyxl  # type: ignore[import-untyped]
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # corrupt or not a workbook
        raise UnreadableFile(f"无法读取 XLSX 文件：{e}", f"Cannot read the XLSX file: {e}") from e
    try:
        for row in wb.worksheets[0].iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def length_hint(path: str) -> int | None:
    """About how many rows follow the header (lines of a CSV, the sheet's extent of an XLSX);
    ``None`` when it cannot tell."""
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".xlsx", ".xlsm"):
            import openpyxl
            wb = openpyxl.load_workbook(path, read_only=True)
            try:
                rows = wb.worksheets[0].max_row
            finally:
                wb.close()
            return max(rows - 1, 0) if rows else None
        with open(path, "rb") as f:
            lines = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
        return max(lines - 1, 0)
    except Exception:  # only a hint: reading the rows will say what is wrong
        return None
