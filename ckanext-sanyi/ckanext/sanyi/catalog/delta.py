"""``package_update``'s result for a change of a few fields, computed field by field.

A re-imported row changes a few fields of a dataset (更新周期, 资源描述 ...). ``package_update``
validates the whole dataset again (the update schema on ``package_show``'s dict with the new
values), then shows it with the default and the custom show schema for the index and the
activity: three passes of navl over every field, ~6 ms per dataset, where the fields that did
not change come out as they went in. :class:`FieldDelta` runs the same validators, from the
same scheming field definitions, on the changed fields only (and on the fields a changed
field's validator reads: ``next_due`` reads ``last_updated`` and ``update_cycle``):

- :meth:`FieldDelta.validate` gives the changed fields' stored values (or the validators'
  errors), :meth:`FieldDelta.validated` the validated dict ``bulk.update_batch`` writes: the
  changed columns and the whole new ``extras`` list;
- :meth:`FieldDelta.shown` gives ``package_show``'s two dicts (default and custom schema, as
  the index holds them) from the ones the index held before the change, with the changed
  fields shown by their show validators and the new ``metadata_modified``.

It stands on two properties of a schema: a field's validators read only that field (and the
declared inputs), and validating a shown value gives back the stored value. Neither is taken
on trust: for the first row of each kind of change in a batch the importer also runs the
whole validation and ``package_show`` and compares (:meth:`FieldDelta.same_row`, the shows
compared as dicts); a difference sends the rows of that kind through the full path and is
logged. Dataset types with dataset-level (``before``/``after``) validators and changes of
the organisation or name never take this path.
"""
from __future__ import annotations

from typing import Any

import ckan.lib.plugins as lib_plugins
from ckan.lib.navl.dictization_functions import validate as navl_validate
from ckan.logic.converters import convert_from_extras
from ckan.logic.schema import default_show_package_schema

from .logic.validators import NEXT_DUE_INPUTS

# field -> the fields its validator reads besides itself
DERIVED: dict[str, tuple[str, ...]] = {"next_due": NEXT_DUE_INPUTS}
# changes that never take this path: membership, the URL, the type
NOT_DELTA = ("owner_org", "name", "type", "id", "private", "state")


class FieldDelta:
    """The field-by-field update of one dataset type (see the module's docstring)."""

    def __init__(self, dataset_type: str = "dataset") -> None:
        self.type = dataset_type
        self.available = False
        plugin = lib_plugins.lookup_package_plugin(dataset_type)
        expanded = getattr(plugin, "_expanded_schemas", {}).get(dataset_type)
        if not expanded or expanded.get("before_validators") or \
                expanded.get("after_validators"):
            return
        from ckanext.scheming.plugins import _field_output_validators, _field_validators
        update_base = plugin.update_package_schema()
        show_base = plugin.show_package_schema()
        self._fields = {f["field_name"]: f for f in expanded["dataset_fields"]
                        if "repeating_subfields" not in f}
        self._core = {k for k in self._fields if k in update_base}
        self._update = {k: _field_validators(f, expanded, k not in update_base)
                        for k, f in self._fields.items()}
        self._show = {k: [v for v in _field_output_validators(f, expanded, k not in show_base)
                          if v is not convert_from_extras]
                      for k, f in self._fields.items()}
        default = default_show_package_schema()
        self._default_show = {k: default[k] for k in self._core if k in default}
        self._extra_value = default["extras"]["value"]
        self.available = True

    # -------------------------------------------------------------------- validation

    def fields(self, changed: list[str]) -> list[str] | None:
        """The fields validated for ``changed``: those, the fields derived from them and the
        derived fields' inputs; None when this path cannot take the change."""
        if not self.available or any(k in NOT_DELTA or k not in self._fields
                                     for k in changed):
            return None
        out = set(changed)
        for derived, inputs in DERIVED.items():
            if derived in self._fields and out & set(inputs):
                out |= {derived, *inputs}
        return sorted(out)

    def kind(self, pkg: Any, fields: list[str], stored: dict[str, Any]) -> tuple[Any, ...]:
        """What makes two changes alike for the checks: the type, the validated fields and
        the extras the change adds to the dataset."""
        extras = pkg.extras or {}
        return (self.type, tuple(fields),
                tuple(k for k in stored if k not in self._core and k not in extras))

    def validate(self, fields: list[str], show: dict[str, Any], patch: dict[str, Any],
                 context: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Validate ``fields`` of ``package_show``'s dict with ``patch`` applied, with the
        update schema's validators of those fields; returns (stored values, errors). A
        field missing from the values is not stored (``ignore_missing`` dropped it)."""
        data = {k: patch[k] if k in patch else show[k] for k in fields
                if k in patch or k in show}
        result, errors = navl_validate(data, {k: self._update[k] for k in fields}, context)
        if errors:
            return {}, errors
        stored = {k: result[k] for k in fields if k in self._core and k in result}
        for extra in result.get("extras", []):
            stored[extra["key"]] = extra["value"]
        return stored, {}

    def validated(self, pkg: Any, fields: list[str], stored: dict[str, Any],
                  order: list[str]) -> dict[str, Any]:
        """The validated dict ``bulk.update_batch`` writes: the changed columns and the whole
        new ``extras`` list (its keys in ``order``, the full validation's, others after)."""
        extras = dict(pkg.extras or {})
        for k in fields:
            if k in self._core:
                continue
            if k in stored:
                extras[k] = stored[k]
            else:
                extras.pop(k, None)
        keys = [k for k in order if k in extras] + [k for k in extras if k not in order]
        out = {k: v for k, v in stored.items() if k in self._core}
        out["extras"] = [{"key": k, "value": extras[k]} for k in keys]
        return out

    @staticmethod
    def same_row(pkg: Any, full: dict[str, Any], delta: dict[str, Any],
                 columns: list[str]) -> bool:
        """Whether writing ``delta`` leaves the same package row (columns, extras and their
        order) as writing ``full``, the whole validation's dict."""
        def row(v: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
            cols = {c: getattr(pkg, c) for c in columns}
            cols.update({c: v[c] for c in columns if c in v})
            return cols, [(e["key"], e["value"]) for e in v.get("extras", [])]
        return row(full) == row(delta)

    # -------------------------------------------------------------------- show

    def shown(self, default: dict[str, Any], custom: dict[str, Any], pkg: Any,
              fields: list[str], context: dict[str, Any]
              ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """``package_show``'s (default, custom) dicts of ``pkg`` as written, from the ones
        the index held before the change; None when the old ones lack a changed field."""
        extras = pkg.extras or {}
        default = dict(default, extras=[dict(e) for e in default.get("extras", [])])
        custom = dict(custom)
        by_key = {e["key"]: e for e in default["extras"]}
        core = {}
        for k in fields:
            if k in self._core:
                core[k] = getattr(pkg, k)
            elif k in extras:
                if k not in by_key:
                    return None
                value, _ = navl_validate({"value": extras[k]}, {"value": self._extra_value},
                                         context)
                by_key[k]["value"] = value["value"]
            elif k in by_key or k in custom:
                return None  # an extra removed: its place in the lists is the full show's
        if core:
            shown_core, _ = navl_validate(
                dict(core), {k: self._default_show.get(k, []) for k in core}, context)
            default.update({k: shown_core[k] for k in core if k in shown_core})
        values = {k: (getattr(pkg, k) if k in self._core else extras[k]) for k in fields
                  if k in self._core or k in extras}
        shown_custom, _ = navl_validate(values, {k: self._show[k] for k in values}, context)
        for k in fields:
            if k in shown_custom:
                custom[k] = shown_custom[k]
            else:
                custom.pop(k, None)
        modified = pkg.metadata_modified.isoformat()
        default["metadata_modified"] = custom["metadata_modified"] = modified
        return default, custom


class PerType(dict):
    """dataset type -> its ``FieldDelta``, made on first use (one per batch: the schemas are
    the plugins' of the moment)."""

    def __missing__(self, dataset_type: str) -> FieldDelta:
        self[dataset_type] = FieldDelta(dataset_type)
        return self[dataset_type]
