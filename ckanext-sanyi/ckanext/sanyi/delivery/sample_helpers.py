"""Template helpers of the sample pages and of the 样例数据 section of a catalog resource."""
from __future__ import annotations

from typing import Any

from ..common import roles
from ..common.user import acting_user
from ..domain import processor as rules
from . import processors, samples

__all__ = ["sanyi_sample_section", "sanyi_processor_document_kinds", "sanyi_agreement",
           "sanyi_processor_status_label"]


def sanyi_sample_section(pkg: dict[str, Any]) -> dict[str, Any]:
    """What the 样例数据 section of ``pkg``'s page shows the current visitor: whether a sample
    exists, whether the visitor may view it, and the steps to qualify (``done`` for a
    logged-in visitor's finished ones)."""
    user = acting_user()
    try:
        found = samples.available(pkg["id"])
    except Exception:  # the section never breaks the resource's page
        found = {"backed": False, "available": False}
    row = processors.for_user(user) if user is not None else None
    missing = rules.missing_steps(row)
    return {
        "backed": found["backed"], "available": found["available"],
        "logged_in": user is not None, "qualified": rules.qualifies(row),
        "status": row["status"] if row else None,
        "steps": [{"key": key, "zh": zh, "en": en, "done": user is not None and key not in missing}
                  for key, (zh, en) in rules.STEPS.items()],
        "can_accept": bool(row) and row["status"] != "revoked" and bool(row["filing_no"])
        and "agreement" in missing,
        "staff": user is not None and (roles.is_operator_staff(user)
                                       or roles.is_bureau_staff(user)),
        "how": rules.QUALIFY,
    }


def sanyi_processor_document_kinds() -> list[tuple[str, str, str]]:
    """``(value, 中文, English)`` of each identity document kind."""
    return [(k, zh, en) for k, (zh, en) in rules.DOCUMENT_KINDS.items()]


def sanyi_agreement() -> dict[str, Any]:
    """The current confidentiality agreement: version, title and clauses (zh, en)."""
    return {"version": rules.AGREEMENT_VERSION, "title": rules.AGREEMENT_TITLE,
            "clauses": rules.AGREEMENT_CLAUSES}


def sanyi_processor_status_label(status: str | None) -> tuple[str, str]:
    return rules.STATUS_TEXT.get(status or "", ("未登记", "not registered"))
