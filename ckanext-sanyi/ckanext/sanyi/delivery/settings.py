"""The delivery gateway's configuration, checked when CKAN starts (``IConfigurable.configure``):
a bad value stops the start with a message naming the option and the reason.

(Not as ``validators:`` of ``config_declaration.yaml``: CKAN 2.12 resolves those names from a
validator cache built while the plugins are unloaded, so a plugin's validator is unknown there.)
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ckan.exceptions import CkanConfigurationException

from . import ratelimit
from .ledger import MIN_RETENTION_YEARS

__all__ = ["retention_years", "rate_limit", "check"]

RETENTION = "ckanext.sanyi.ledger.retention_years"
RATE_LIMIT = "ckanext.sanyi.delivery.rate_limit"
SUSPEND_AFTER = "ckanext.sanyi.delivery.suspend_after"
SUSPEND_WINDOW = "ckanext.sanyi.delivery.suspend_window"


def retention_years(value: Any) -> int:
    """Years the data-flow ledger is kept: a whole number, at least three (the rules);
    ``ValueError`` otherwise."""
    try:
        years = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(f"must be a whole number of years, at least {MIN_RETENTION_YEARS}: "
                         f"{value!r}") from None
    if years < MIN_RETENTION_YEARS:
        raise ValueError(f"the data-flow ledger (数据流转台账) must be kept at least "
                         f"{MIN_RETENTION_YEARS} years, not {years}")
    return years


def rate_limit(value: Any) -> str:
    """A rate limit rule such as ``20/s``, ``600/min``, ``100/10s`` or ``off``."""
    ratelimit.parse(str(value))
    return str(value)


def _whole(low: int, high: int) -> Any:
    def validator(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise ValueError(f"must be a whole number from {low} to {high}: {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"must be from {low} to {high}: {number}")
        return number
    return validator


def check(config: Mapping[str, Any]) -> None:
    """Every delivery option of ``config``; ``CkanConfigurationException`` naming each bad one."""
    problems = []
    for key, validator, default in ((RETENTION, retention_years, MIN_RETENTION_YEARS),
                                    (RATE_LIMIT, rate_limit, ratelimit.DEFAULT),
                                    (SUSPEND_AFTER, _whole(0, 10_000), 5),
                                    (SUSPEND_WINDOW, _whole(1, 86_400), 600)):
        value = config.get(key)
        try:
            validator(default if value is None or value == "" else value)
        except ValueError as err:
            problems.append(f"{key}: {err}")
    if problems:
        raise CkanConfigurationException("Invalid configuration values provided:\n"
                                         + "\n".join(problems))
