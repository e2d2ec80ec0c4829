"""The ``sanyi_interop`` plugin, loaded after ckanext-dcat's ``dcat`` plugin.

The catalog endpoints (``/catalog.{ttl,rdf,jsonld,xml}``, ``/`` with an RDF ``Accept``) list
the public catalog resources as ``dcat:dataset``: the catalog is a publication, so a logged-in
member does not get the private ones in it either (their own documents,
``/dataset/<name>.ttl``, follow ``package_show``'s rules). Products are data services, so they
are left out of that paged dataset list and described, as ``dcat:service``, by the profile's
catalog part (``dcat_profile.SanyiDCATAPProfile.graph_from_catalog``).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.dcat.utils import CONTENT_TYPES

from ..common.errors import as_ckan_error
from ..domain.errors import DomainError

__all__ = ["InteropPlugin", "datasets_only", "checked_format"]

DATASETS_ONLY = "+dataset_type:dataset +capacity:public"


def datasets_only(data_dict: dict[str, Any]) -> dict[str, Any]:
    """``data_dict`` with its filter query narrowed to public catalog resources."""
    fq = (data_dict.get("fq") or "").strip()
    return dict(data_dict, fq=f"{DATASETS_ONLY} +({fq})" if fq else DATASETS_ONLY)


def checked_format(data_dict: dict[str, Any]) -> dict[str, Any]:
    """``data_dict`` if its serialization is one the endpoints serve (``ttl``, ``rdf``, ``xml``,
    ``n3``, ``jsonld``); otherwise a field error on ``format`` (409), not a 500 (the
    serializer would fail on ``/catalog.foo``)."""
    fmt = data_dict.get("format")
    if fmt is not None and fmt not in CONTENT_TYPES:
        known = ", ".join(sorted(CONTENT_TYPES))
        raise as_ckan_error(DomainError("format", f"不支持的格式：{fmt}（可用：{known}）",
                                        f"Unsupported format: {fmt} (one of {known})"))
    return data_dict


@tk.chained_action
@tk.side_effect_free
def dcat_catalog_show(original: Any, context: Any, data_dict: dict[str, Any]) -> Any:
    return original(context, datasets_only(checked_format(data_dict)))


@tk.chained_action
@tk.side_effect_free
def dcat_catalog_search(original: Any, context: Any, data_dict: dict[str, Any]) -> Any:
    return original(context, datasets_only(checked_format(data_dict)))


@tk.chained_action
def dcat_dataset_show(original: Any, context: Any, data_dict: dict[str, Any]) -> Any:
    return original(context, checked_format(data_dict))


class InteropPlugin(p.SingletonPlugin):
    p.implements(p.IActions)

    def get_actions(self) -> dict[str, Any]:
        return {"dcat_catalog_show": dcat_catalog_show,
                "dcat_catalog_search": dcat_catalog_search,
                "dcat_dataset_show": dcat_dataset_show}
