"""CKAN's JavaScript translations at the URL CKAN's own JavaScript asks for them.

CKAN 2.12 renders ``<html lang="{{ h.unix_locale_to_bcp47(h.lang()) }}">`` in base.html, which
turns every underscore into a hyphen: ``zh_Hans_CN`` becomes ``zh-Hans-CN`` (a valid BCP-47 tag,
which the browser needs to pick CJK fonts and screen readers need to pick a voice).
``ckan.initialize()`` (public/base/javascript/main.js) passes that tag to
``client.getLocaleData()`` (client.js), which does ``locale.replace('-', '_')``: a JavaScript
string replace, so only the *first* hyphen goes back to an underscore and the page requests
``/api/i18n/zh_Hans-CN``. ``api.i18n_js_translations`` only knows the POSIX name ``zh_Hans_CN``
and answers 400 "Unknown locale"; the promise fails, ``ckan.module.initialize()`` is never
called, and no CKAN JavaScript module starts on the page (the scheming repeating-subfields
editor, the footer language selector, autocomplete, ...).

The routes here answer exactly that requested form (the POSIX locale with the rest of its
hyphens kept) with CKAN's own view for the POSIX name, so the body is the translations CKAN
builds for that locale. They are static paths, which Werkzeug matches before CKAN's
``/api/i18n/<lang>``; locales with at most one underscore (``en``, ``pt_BR``) already round-trip
and get no route of their own.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response
from flask.blueprints import BlueprintSetupState

__all__ = ["i18n_js", "requested_locale"]

i18n_js = Blueprint("sanyi_i18n_js", __name__)


def requested_locale(locale: str) -> str:
    """The locale name CKAN's JavaScript puts in /api/i18n/<name> for a page in ``locale``."""
    bcp47 = tk.h.unix_locale_to_bcp47(locale)
    return bcp47.replace("-", "_", 1)  # what JS ``String.replace('-', '_')`` does


def _translations_view(locale: str):
    def view() -> str | Response:
        from ckan.views.api import i18n_js_translations
        return i18n_js_translations(locale)
    return view


@i18n_js.record
def _add_rules(state: BlueprintSetupState) -> None:
    # Registered when the app is built (the configuration is loaded by then), one static path
    # per offered locale whose JavaScript form differs from its POSIX name.
    from ckan.lib.i18n import get_locales_from_config
    for locale in sorted(get_locales_from_config()):
        asked = requested_locale(locale)
        if asked != locale:
            state.add_url_rule(f"/api/i18n/{asked}", endpoint=f"translations_{locale}",
                               view_func=_translations_view(locale))
