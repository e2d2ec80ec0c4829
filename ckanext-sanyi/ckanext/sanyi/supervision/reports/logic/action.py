"""Actions of the reports (:mod:`..service`).

A bad kind or period is a ``tk.ValidationError`` (409) naming it in Chinese and English; a
caller without the role is refused (403); receiving a report never submitted is 404; a
report already submitted (or received) names ``status``. Submitting commits the frozen
report with its audit record, or nothing.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ....common.errors import refusals
from ....common.user import acting_user, require_user
from .. import service

__all__ = ["sanyi_report_show", "sanyi_report_list", "sanyi_report_submit",
           "sanyi_report_receive"]


@tk.side_effect_free
def sanyi_report_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A report's figures: the stored ones once submitted (frozen), else as they stand now.

    :param kind: ``quarterly`` | ``annual`` | ``disclosure``
    :param period: ``2026Q4`` (quarterly) or ``2026``
    :returns: ``{"kind", "period", "state", "due", "audience", "stored", "figures"}``;
        ``audience`` is ``unit`` for a data unit (its part only); ``stored`` the submission
        (hashes, who, when, received) or None
    """
    tk.check_access("sanyi_report_show", context, data_dict)
    with refusals(context, write=False):
        out = service.report_for(acting_user(context), data_dict.get("kind"),
                                 data_dict.get("period"))
    period = out.pop("period")
    return {"kind": period.kind, "period": period.key, **out}


@tk.side_effect_free
def sanyi_report_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every report period from ``ckanext.sanyi.reports.first_quarter`` on, newest first, with
    its due date and state, and the reminders (due and overdue reports) for staff.

    :returns: ``{"count", "results", "reminders", "audience"}``: one result per report
    """
    tk.check_access("sanyi_report_list", context, data_dict)
    with refusals(context, write=False):
        listing = service.listing(acting_user(context))
    reports = listing.pop("reports")
    return {"count": len(reports), "results": reports, **listing}


def sanyi_report_submit(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Submit (and freeze) the report of an ended period (operator): its figures, the PDF
    rendered from them and both SHA-256 are stored, and audited.

    :param kind: ``quarterly`` | ``annual`` | ``disclosure``; :param period: as above
    :returns: the stored report (``pdf_sha256``, ``figures_sha256``, ``submitted_at`` ...)
    """
    tk.check_access("sanyi_report_submit", context, data_dict)
    with refusals(context):
        return service.submit(require_user(context), data_dict.get("kind"),
                              data_dict.get("period"))


def sanyi_report_receive(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Mark a submitted report received (bureau), with an optional comment; audited.

    :param kind, period: as above; :param comment: optional, at most 1000 characters
    """
    tk.check_access("sanyi_report_receive", context, data_dict)
    with refusals(context):
        return service.receive(require_user(context), data_dict.get("kind"),
                               data_dict.get("period"), data_dict.get("comment"))
