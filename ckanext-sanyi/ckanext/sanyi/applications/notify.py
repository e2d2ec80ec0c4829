"""Telling each party when something waits for them or changes.

* In the portal: a ``sanyi_notification`` row per recipient, written in the caller's
  transaction (so a refused or rolled-back change notifies nobody). The dashboard shows the
  unread ones plus the count of items waiting (see :mod:`.helpers`).
* By e-mail, through CKAN's mailer (``ckan.lib.mailer.mail_user``), only when
  ``smtp.server`` is set, and only once the transaction has committed (an ``after_commit``
  hook on CKAN's session sends what was queued). A failure is logged, never raised.
"""
from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any, Iterable

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from .model import notification_table

__all__ = ["notify", "unread", "unread_count", "mark_read", "send_queued"]

log = logging.getLogger(__name__)
_QUEUE = "sanyi_mail_queue"


def notify(user_ids: Iterable[str], object_type: str, object_id: str, zh: str, en: str,
           link: str = "") -> int:
    """Notify each user (CKAN user ids; duplicates and blanks ignored); returns how many."""
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return 0
    model.Session.execute(notification_table.insert(), [
        {"user_id": uid, "object_type": object_type, "object_id": object_id,
         "subject_zh": zh, "subject_en": en, "link": link} for uid in ids])
    if tk.config.get("smtp.server"):
        users = model.Session.query(model.User.name, model.User.fullname, model.User.email) \
            .filter(model.User.id.in_(ids)).all()
        queue = model.Session.info.setdefault(_QUEUE, [])
        for name, fullname, email in users:
            queue.append((SimpleNamespace(name=name, display_name=fullname or name,
                                          email=email or ""), zh, en, link))
    return len(ids)


def _body(zh: str, en: str, link: str) -> str:
    site = tk.config.get("ckan.site_url") or ""
    site_title = tk.config.get("ckan.site_title") or "三医数据授权运营平台"
    url = f"{site.rstrip('/')}{link}" if link else site
    return f"{zh}\n{en}\n\n{url}\n\n— {site_title}"


def send_queued(session: Any = None) -> int:
    """Send the e-mails queued in ``session`` (default: CKAN's); returns how many were sent."""
    session = session if session is not None else model.Session
    queue = session.info.pop(_QUEUE, None) or []
    if not queue or not tk.config.get("smtp.server"):
        return 0
    from ckan.lib import mailer
    sent = 0
    for user, zh, en, link in queue:
        try:
            mailer.mail_user(user, f"{zh} / {en}", _body(zh, en, link))
            sent += 1
        except Exception as err:  # never fatal: the change is already committed
            log.warning("sanyi notification e-mail to %s failed: %s", user.name, err)
    return sent


def _after_commit(session: Any) -> None:
    try:
        send_queued(session)
    except Exception:  # pragma: no cover - belt and braces: never break a commit
        log.exception("sanyi notification e-mails failed")


def _after_rollback(session: Any) -> None:
    session.info.pop(_QUEUE, None)


for _event, _fn in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
    if not sa.event.contains(model.Session, _event, _fn):
        sa.event.listen(model.Session, _event, _fn)


def unread(user_id: str, limit: int = 50) -> list[dict[str, Any]]:
    t = notification_table
    rows = model.Session.execute(
        sa.select(t).where(t.c.user_id == user_id, t.c.read_at.is_(None))
        .order_by(t.c.id.desc()).limit(limit)).mappings()
    return [dict(r, created=r["created"].isoformat() if r["created"] else None) for r in rows]


def unread_count(user_id: str) -> int:
    t = notification_table
    return int(model.Session.execute(
        sa.select(sa.func.count()).select_from(t)
        .where(t.c.user_id == user_id, t.c.read_at.is_(None))).scalar_one())


def mark_read(user_id: str) -> int:
    t = notification_table
    result = model.Session.execute(
        t.update().where(t.c.user_id == user_id, t.c.read_at.is_(None))
        .values(read_at=sa.func.clock_timestamp()))
    model.Session.commit()
    return result.rowcount or 0
