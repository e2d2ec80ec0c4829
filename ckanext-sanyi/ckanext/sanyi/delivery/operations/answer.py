"""What an operation answers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Answer"]


@dataclass(frozen=True)
class Answer:
    """``result`` (valid under the operation's output schema), the columns read for this call
    (``table.column``, a subset of the operation's declared reads) and how many source rows
    its queries matched."""
    result: dict[str, Any]
    fields_read: tuple[str, ...]
    rows_touched: int
