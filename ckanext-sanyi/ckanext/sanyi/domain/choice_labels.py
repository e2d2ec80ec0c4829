"""Chinese (and English) labels accepted wherever an action takes a code, as CKAN's
``package_create`` takes a scheming choice's label: 公共治理、公益事业 for ``public_interest``,
次 for ``call``. Pure: no CKAN import.

:func:`code` answers the code a label names (spaces, full-width punctuation and the
separators 、/，/ between the two halves of a use ignored) or the value unchanged, so the
caller's own check still refuses what is neither; :func:`labels` lists, per code, the labels
accepted, for the API description.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["KINDS", "code", "labels"]

KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    "use": {
        "public_interest": ("公共治理、公益事业", "公共治理", "公益事业", "公益",
                            "public interest", "public governance / public welfare"),
        "industrial": ("产业发展、行业发展", "产业发展", "行业发展", "产业",
                       "industry development", "industrial / industry development"),
    },
    "billing_unit": {
        "copy": ("份", "按产品/数据集份数", "按份", "per copy", "copies"),
        "call": ("次", "按服务次数", "按次", "服务次数", "per call", "calls"),
        "record": ("条", "按数据调用量", "按数据调用量（条）", "数据调用量", "按条", "per record",
                   "records"),
        "month": ("月", "个月", "按服务时间（月）", "按月", "per month", "months"),
        "year": ("年", "按服务时间（年）", "按年", "per year", "years"),
    },
    "enterprise_size": {
        "micro": ("微型企业", "微型"), "small": ("小型企业", "小型"),
        "medium": ("中型企业", "中型"), "large": ("大型企业", "大型"),
    },
    "decision": {
        "approve": ("通过", "批准", "同意"), "reject": ("驳回", "拒绝"),
        "return": ("退回", "退回修改"),
    },
    "outcome": {"granted": ("放行",), "refused": ("拒绝",)},
}
_SEPARATORS = re.compile(r"[\s、，,/／;；]+")


def _key(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).casefold()


_INDEX: dict[str, dict[str, str]] = {
    kind: {_key(label): c for c, names in choices.items() for label in (c, *names)}
    for kind, choices in KINDS.items()}


def code(kind: str, value: Any) -> Any:
    """The code of ``kind`` that ``value`` names (a code or one of its labels); any other
    value (not text, unknown) unchanged."""
    if not isinstance(value, str) or kind not in _INDEX:
        return value
    return _INDEX[kind].get(_key(value), value)


def labels(kind: str) -> dict[str, tuple[str, ...]]:
    """Per code of ``kind``, the labels accepted for it."""
    return dict(KINDS[kind])
