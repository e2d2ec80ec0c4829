"""Domain refusals → CKAN's exceptions, in one place, and the one commit/rollback of a write.

* :class:`~ckanext.sanyi.domain.errors.Invalid` (several fields) and any
  :class:`~ckanext.sanyi.domain.errors.DomainError` (one field; the fee engine's
  ``PricingError`` is one) → ``tk.ValidationError`` (409), messages "中文 / English";
* :class:`~ckanext.sanyi.domain.approval_model.TransitionRefused` of kind ``state`` →
  ``ValidationError`` on ``status``; of kind ``actor`` → ``tk.NotAuthorized`` (403);
* :class:`~ckanext.sanyi.domain.errors.NotFound` → ``tk.ObjectNotFound`` (404).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..domain.approval_model import RefusalKind, TransitionRefused
from ..domain.errors import DomainError, Invalid, NotFound
from .i18n_text import bi

__all__ = ["as_ckan_error", "refusals"]


def _msg(err: DomainError) -> str:
    return bi(err.zh, err.en)


def as_ckan_error(err: DomainError | Invalid) -> Exception:
    """The CKAN exception that answers ``err``."""
    if isinstance(err, Invalid):
        return tk.ValidationError({f or "__all__": [_msg(e) for e in errs]
                                   for f, errs in err.errors.items()})
    if isinstance(err, TransitionRefused):
        if err.kind is RefusalKind.STATE:
            return tk.ValidationError({"status": [_msg(err)]})
        return tk.NotAuthorized(_msg(err))
    if isinstance(err, NotFound):
        return tk.ObjectNotFound(_msg(err))
    return tk.ValidationError({err.field or "__all__": [_msg(err)]})


@contextmanager
def refusals(context: Any, write: bool = True) -> Iterator[None]:
    """Run an action's work (or a webhook's): a domain refusal becomes its CKAN exception;
    any error, the commit's own included, rolls the session back; otherwise a write is
    committed (unless the caller set ``defer_commit``)."""
    try:
        yield
        if write and not context.get("defer_commit"):
            model.Session.commit()
    except (DomainError, Invalid) as err:
        model.Session.rollback()
        raise as_ckan_error(err) from err
    except Exception:
        model.Session.rollback()
        raise
