"""Domain refusals → CKAN's exceptions, in one place, and the one commit/rollback of a write.

* :class:`~ckanext.sanyi.domain.errors.Invalid` (several fields) and any
  :class:`~ckanext.sanyi.domain.errors.DomainError` (one field; the fee engine's
  ``PricingError`` is one) → ``tk.ValidationError`` (409), messages "中文 / English";
* :class:`~ckanext.sanyi.domain.approval_model.TransitionRefused` of kind ``state`` →
  ``ValidationError`` on ``status``; of kind ``actor`` → ``tk.NotAuthorized`` (403);
* :class:`~ckanext.sanyi.domain.errors.NotFound` → ``tk.ObjectNotFound`` (404).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..domain.approval_model import RefusalKind, TransitionRefused
from ..domain.errors import DomainError, Invalid, NotFound
from .i18n_text import bi, half

__all__ = ["as_ckan_error", "refusals", "error_lines", "refusal_text", "one_language"]


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


def _ui_is_zh() -> bool:
    try:
        return str(tk.h.lang()).startswith("zh")
    except Exception:  # outside a request
        return True


def one_language(message: Any, zh: bool | None = None) -> str:
    """A bilingual "中文 / English" message cut to the half the page speaks (the UI's
    language when ``zh`` is None); a message in one language as it is."""
    return half(str(message), _ui_is_zh() if zh is None else zh)


def error_lines(error_dict: Mapping[str, Any], bare: tuple[str, ...] = ()) -> list[str]:
    """A ``ValidationError``'s dict as lines for a page: each message in the UI's language,
    without the field's name or path (the API keeps both languages and the fields).
    ``bare`` is kept for callers that named fields to show bare: every field is now."""
    out = []
    for messages in error_dict.values():
        for message in messages if isinstance(messages, list) else [messages]:
            if isinstance(message, Mapping):  # a subfield's errors ({"upto": [...]})
                out += error_lines(message)
            elif isinstance(message, list):
                out += error_lines({"": message})
            else:
                out.append(one_language(message))
    return out


def refusal_text(err: DomainError | tk.ValidationError) -> str:
    """A refusal as one flash message in the UI's language, several joined by "；"/"; "."""
    zh = _ui_is_zh()
    if isinstance(err, DomainError):
        return err.zh if zh else err.en
    return ("；" if zh else "; ").join(error_lines(err.error_dict))

