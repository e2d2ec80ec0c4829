"""Pure-Python domain rules of ckanext-sanyi (no CKAN imports here).

Modules: :mod:`.errors`, :mod:`.cycles` (更新周期), :mod:`.credit_code`
(统一社会信用代码), :mod:`.approval` (application state machine) and
:mod:`.masking` (脱敏).
"""
from __future__ import annotations

from .errors import DomainError

__all__ = ["DomainError"]
