"""CKAN's dataset actions refuse arguments of the wrong type before CKAN's own code sees them.

CKAN 2.12 reads ``id``, ``name`` and ``type`` as strings (a list reaches SQL or a dict lookup)
and passes ``include_plugin_data``/``use_default_schema`` to ``asbool``, which raises on
anything but text and booleans, and measures each of ``tag_string``'s tags (a null in the list):
each of these is a 500 there. Here each is a field error
(409) in Chinese and English.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict

from ..common.i18n_text import bi
from ..common.ids import id_problem

FLAGS = ("include_plugin_data", "use_default_schema", "include_tracking", "private")
_FLAG_WORDS = {"true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n", ""}


def check(data_dict: DataDict, *, ids: tuple[str, ...] = ()) -> None:
    errors: dict[str, list[str]] = {}
    for key in ids:
        value = data_dict.get(key)
        # what JSON can carry; internal callers pass other things (bulk_update_* a Row)
        if isinstance(value, (str, list, dict, bool, int, float)) or key in data_dict and value is None:
            problem = id_problem(value)
            if problem:
                errors[key] = [problem]
    for key in ("name", "type", "owner_org"):
        value = data_dict.get(key)
        if value is not None and key not in errors and not isinstance(value, str):
            errors[key] = [bi(f"{key} 须为文本", f"{key} must be text")]
    tags = data_dict.get("tag_string")
    if tags is not None and not isinstance(tags, str) and not (
            isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        # CKAN measures each tag's length: a null or a number in the list is a 500 there
        errors["tag_string"] = [bi("tag_string 须为文本或文本列表",
                                   "tag_string must be text or a list of texts")]
    for key in FLAGS:
        value = data_dict.get(key)
        if value is None or isinstance(value, bool):
            continue
        if not isinstance(value, str) or value.strip().lower() not in _FLAG_WORDS:
            errors[key] = [bi(f"{key} 须为 true 或 false", f"{key} must be true or false")]
    if errors:
        raise tk.ValidationError(errors)


@tk.chained_action
@tk.side_effect_free
def package_show(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    check(data_dict, ids=("id",))
    return up_func(context, data_dict)


@tk.chained_action
def package_create(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    check(data_dict)
    return up_func(context, data_dict)


@tk.chained_action
def package_update(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    check(data_dict, ids=("id",) if "id" in data_dict or "name" not in data_dict else ())
    return up_func(context, data_dict)


@tk.chained_action
def package_patch(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    check(data_dict, ids=("id",) if "id" in data_dict or "name" not in data_dict else ())
    return up_func(context, data_dict)


@tk.chained_action
def package_delete(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    check(data_dict, ids=("id",))
    return up_func(context, data_dict)
