"""``package_search`` refuses values of the wrong type before CKAN's own code sees them.

CKAN 2.12 converts ``rows``, ``start`` and the facet parameters with ``int()`` and treats
``q``/``fq``/``sort`` as strings; a JSON body can carry a list or an object instead, which
ends in a ``TypeError`` (a 500). Here each gets a field error (409) in Chinese and English.
"""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict

from ..common.i18n_text import bi

TEXT_PARAMS = ("q", "fq", "sort", "fl", "df", "defType", "q.op", "mm", "qf", "bf", "boost")
WHOLE_PARAMS = ("rows", "start", "facet.limit", "facet.mincount")


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 40


def check(data_dict: DataDict) -> None:
    errors: dict[str, list[str]] = {}
    for key in TEXT_PARAMS:
        value = data_dict.get(key)
        if value is not None and not isinstance(value, str):
            errors[key] = [bi(f"{key} 须为文本", f"{key} must be text")]
    for key in WHOLE_PARAMS:
        value = data_dict.get(key)
        if isinstance(value, str) and not value.strip():
            data_dict.pop(key)  # CKAN's int_validator then natural_number_validator fail on ""
        elif value is not None and not _is_whole(value):
            errors[key] = [bi(f"{key} 须为整数", f"{key} must be a whole number")]
    fields = data_dict.get("facet.field")
    if isinstance(fields, str):
        try:
            fields = json.loads(fields)
        except ValueError:
            fields = None
        if not isinstance(fields, list):
            errors["facet.field"] = [bi("facet.field 须为字段名列表（JSON）",
                                        "facet.field must be a (JSON) list of field names")]
    if isinstance(fields, list) and not all(isinstance(f, str) for f in fields) \
            or fields is not None and not isinstance(fields, (list, str)):
        errors["facet.field"] = [bi("facet.field 须为字段名列表",
                                    "facet.field must be a list of field names")]
    fq_list = data_dict.get("fq_list")
    if fq_list is not None and not (isinstance(fq_list, list)
                                    and all(isinstance(f, str) for f in fq_list)):
        errors["fq_list"] = [bi("fq_list 须为文本列表", "fq_list must be a list of text")]
    if errors:
        raise tk.ValidationError(errors)


@tk.chained_action
@tk.side_effect_free
def package_search(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    check(data_dict)
    return up_func(context, data_dict)
