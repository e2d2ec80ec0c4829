"""Keys of the samples feature: the watermark key and the key of identity-document digests.

``ckanext.sanyi.samples.watermark_key`` when set; otherwise derived from CKAN's ``SECRET_KEY``
(HMAC-SHA256 over a purpose label), so a site that sets nothing still has a key no visitor
knows, stable across restarts. Each purpose gets its own derived key.
"""
from __future__ import annotations

import hashlib
import hmac

import ckan.plugins.toolkit as tk

__all__ = ["watermark_key", "document_key"]


def _base() -> bytes:
    configured = str(tk.config.get("ckanext.sanyi.samples.watermark_key") or "")
    if configured:
        return configured.encode("utf-8")
    secret = str(tk.config.get("SECRET_KEY") or "")
    if not secret:
        raise RuntimeError("neither ckanext.sanyi.samples.watermark_key nor SECRET_KEY is set")
    return hmac.new(secret.encode("utf-8"), b"ckanext-sanyi samples", hashlib.sha256).digest()


def _derived(purpose: str) -> bytes:
    return hmac.new(_base(), purpose.encode("utf-8"), hashlib.sha256).digest()


def watermark_key() -> bytes:
    """The key of sample markers (:func:`ckanext.sanyi.domain.watermark.marker`)."""
    return _derived("watermark")


def document_key() -> bytes:
    """The key of the digests that keep one identity document to one processor."""
    return _derived("identity-document")
