"""Create many catalog datasets fast, with the same result as ``package_create``.

``package_create`` per row costs ~25 ms here (validation, ~35 queries, a ``package_show``
for the activity and another for the index, one index write, a commit), i.e. 40 rows/s
(bench/import_catalog.py). ``create_batch`` does the same work once per batch where it can:

1. each row is validated exactly as ``package_create`` validates it: ``plugin_validate``
   with the dataset type's scheming create schema (a row with errors is reported, nothing
   of it is written);
2. the rows ``package_dict_save`` and ``package_owner_org_update`` would write (``package``
   with its JSONB ``extras``, and the ``member`` row linking it to its organisation) are
   inserted with SQLAlchemy core, one multi-row INSERT per table;
3. the ``IPackageController.create``/``after_dataset_create`` hooks run as in
   ``package_create``;
4. ``package_show``'s dictization is done for the whole batch (the organisation dict once
   per organisation; a new dataset has no resources, tags, groups or relationships), then
   the same show schemas and ``after_dataset_show`` hooks, and CKAN's own
   ``PackageSearchIndex.index_package`` builds each index document (plugins'
   ``before_dataset_index``, permission labels); the batch's documents then go to the
   search engine in one call;
5. the "new package" activity ``package_create`` would record is written for each dataset.

The batch commits once. A row whose validated data would need more than this path writes
(resources, tags, groups) and any batch that fails in the database go through
``package_create`` row by row instead, each in a savepoint, so one bad row never takes
the others down. tests/integration/test_import.py proves that a bulk-created dataset's
``package_show``, index row/document, activity and membership equal those of
``package_create``.

``update_batch`` is the same for changed rows, with the result ``package_update`` gives:
the data validated by ``validate_update`` (the update schema, on ``package_show``'s dict
with the new values, as ``package_patch`` sends it) is written with one UPDATE per batch,
the ``edit``/``after_dataset_update`` hooks run, the batch is shown and indexed as above and
each dataset gets its "changed package" activity (naming the import file);
tests/integration/catalog/test_import_update.py proves it equals ``package_update``'s. A row
that changes a few fields is validated (``validate_updates``) and shown
(``shown_after_update``) field by field (``delta.FieldDelta``), the first of each kind of
change in a batch also whole and compared; test_import_delta.py proves those rows equal
``package_update``'s too.

``create_chunks`` and ``update_chunks`` run the batches of a large import in forked worker
processes (one per core), each with its own database connections and transactions.
"""
from __future__ import annotations

import copy
import datetime as dt
import gc
import json
import logging
import multiprocessing
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

import ckan.lib.dictization as d
import ckan.lib.plugins as lib_plugins
import ckan.logic as logic
import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.lib.search import index_for
from ckan.lib.search.common import SearchError
from ckan.logic.schema import default_show_package_schema
from ckan.model.types import make_uuid
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text, update

from .. import search
from ..common import clock
from ..common.i18n_text import bi

log = logging.getLogger(__name__)

# validated keys that need writes this path does not do (package_create does them)
_NOT_BULK = ("resources", "tags", "groups", "relationships_as_subject",
             "relationships_as_object", "plugin_data")


@dataclass
class Outcome:
    """What happened to the rows handed to ``create_batch``/``update_rows``."""
    created: list[str] = field(default_factory=list)      # package ids
    updated: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)


# ---------------------------------------------------------------------------------------
# messages

def field_labels(dataset_type: str = "dataset") -> dict[str, tuple[str, str]]:
    """field name -> (Chinese label, English label) from the scheming schema."""
    from ckanext.scheming.helpers import scheming_get_dataset_schema
    schema = scheming_get_dataset_schema(dataset_type) or {}
    out = {}
    for f in schema.get("dataset_fields", []):
        label = f.get("label", f["field_name"])
        if isinstance(label, dict):
            out[f["field_name"]] = (label.get("zh_Hans_CN", f["field_name"]),
                                    label.get("en", f["field_name"]))
        else:
            out[f["field_name"]] = (str(label), str(label))
    return out


def error_text(errors: dict[str, Any], dataset_type: str = "dataset") -> str:
    """``{"delivery_methods": ["未知的… / Unknown …"]}`` -> ``提供方式 / Delivery method: …``."""
    labels = field_labels(dataset_type)
    parts = []
    for key, msgs in errors.items():
        if isinstance(msgs, dict):
            msgs = [error_text(msgs, dataset_type)]
        elif isinstance(msgs, list):
            msgs = [error_text(m, dataset_type) if isinstance(m, dict) else str(m)
                    for m in msgs]
        else:
            msgs = [str(msgs)]
        zh, en = labels.get(key, (key, key))
        parts.append(f"{zh} / {en}: {'; '.join(msgs)}")
    return " | ".join(parts)


# ---------------------------------------------------------------------------------------
# validation

def _context(user: str, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {"model": model, "session": model.Session, "user": user,
                           "ignore_auth": True}
    ctx.update(extra)
    return ctx


def validate_create(data: dict[str, Any], user: str) -> tuple[dict[str, Any], dict]:
    """Validate ``data`` exactly as ``package_create`` does (same plugin, schema, call)."""
    plugin = lib_plugins.lookup_package_plugin(data.get("type") or "dataset")
    context = _context(user)
    return lib_plugins.plugin_validate(plugin, context, dict(data),
                                       plugin.create_package_schema(), "package_create")


# ---------------------------------------------------------------------------------------
# the fast path

_PKG_COLUMNS = [c.name for c in model.package_table.c]


def _package_row(data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The package row ``package_dict_save`` writes for a new dataset (``from_dict``)."""
    row = {c: data[c] for c in _PKG_COLUMNS
           if c in data and c not in ("extras", "plugin_data", "metadata_created")}
    row["extras"] = {e["key"]: e["value"] for e in data.get("extras", [])}
    row["id"] = data["id"]
    row.setdefault("type", "dataset")
    row.setdefault("private", False)
    row.setdefault("state", model.State.ACTIVE)
    row["metadata_created"] = now
    row["metadata_modified"] = now
    for c in _PKG_COLUMNS:  # executemany needs the same keys in every row
        row.setdefault(c, None)
    return row


def create_batch(items: list[tuple[int, dict[str, Any]]], user: str,
                 activity: bool = True) -> Outcome:
    """Validate and create ``items`` ((row number, dataset dict) pairs); commit once.

    The names must not belong to an active dataset (the caller sends existing ones to
    ``update_rows``); a deleted dataset holding a name is renamed to its id, as
    ``package_create`` does.
    """
    out = Outcome()
    user_obj = model.User.get(user)
    good: list[tuple[int, dict[str, Any]]] = []
    slow: list[tuple[int, dict[str, Any]]] = []
    for number, data in items:
        validated, errors = validate_create(data, user)
        if errors:
            out.errors.append((number, error_text(errors, data.get("type") or "dataset")))
        elif any(validated.get(k) for k in _NOT_BULK):
            slow.append((number, data))
        else:
            good.append((number, validated))
    if good:
        try:
            out.created += _write_new(good, user, user_obj, activity)
            model.repo.commit()
        except Exception as e:  # noqa: BLE001 - the rows are retried one by one below
            model.Session.rollback()
            log.warning("bulk write failed (%s); falling back to package_create per row", e,
                        exc_info=not isinstance(e, sa_exc.DBAPIError))
            originals = dict(items)
            slow = sorted([(n, originals[n]) for n, _ in good] + slow)
    if slow:
        _create_one_by_one(slow, user, out)
    return out


def create_chunks(chunks: list[list[tuple[int, dict[str, Any]]]], user: str, activity: bool,
                  workers: int | None = None) -> Iterator[tuple[int, list[tuple[int, str]], int]]:
    """``create_batch`` each chunk; yields (created, errors, rows done) per chunk.

    With more than one worker (default: one per CPU core when there are more than four
    chunks) the first chunk runs here, then the rest in forked processes that each open
    their own database connections; every chunk is its own transaction either way.
    """
    todo = list(chunks)
    processes = worker_count(len(todo), workers)
    if processes > 1:
        first, todo = warm_split(todo)
        out = create_batch(first, user, activity)  # warms caches the children inherit
        yield len(out.created), out.errors, len(first)
        yield from forked(_child_create, [(c, user, activity) for c in todo], processes)
        return
    for chunk in todo:
        out = create_batch(chunk, user, activity)
        yield len(out.created), out.errors, len(chunk)


_WARM_ROWS = 50  # rows written before forking, so the children inherit warm caches


def warm_split(chunks: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
    """The first ``_WARM_ROWS`` rows of ``chunks`` (written here before the workers start:
    segmentation dictionaries, schemas, compiled statements, facet ids) and the other
    chunks, the rest of the first one included; one core idles meanwhile, so it is short."""
    first, rest = chunks[0][:_WARM_ROWS], chunks[0][_WARM_ROWS:]
    return first, ([rest] if rest else []) + chunks[1:]


def worker_count(chunks: int, workers: int | None) -> int:
    """How many processes work on ``chunks`` batches: ``workers``, by default one per CPU
    core (at most 4) when there are more than four; 1 where processes cannot be forked."""
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if chunks > 4 else 1
    if chunks <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(workers, chunks))


def forked(func: Any, args: Any, processes: int) -> Iterator[Any]:
    """``func(a)`` for each of ``args`` in at most ``processes`` forked worker processes
    (each opening database connections of its own), results as they come. This process's
    session is closed first: the children must not share its connection."""
    todo = list(args)
    model.Session.remove()
    ctx = multiprocessing.get_context("fork")
    # what the children inherit is left out of their garbage collections: a collection
    # would walk (and so copy) every inherited page, the caches of a large import included
    gc.freeze()
    try:
        with ctx.Pool(max(1, min(processes, len(todo))), initializer=_child_init) as pool:
            yield from pool.imap_unordered(func, todo)
    finally:
        gc.unfreeze()


def _child_init() -> None:
    """In a forked worker: never touch the parent's database connections; collect garbage
    less often (a worker lives for its batches, each of which allocates many objects that
    are freed by reference counting, not by the collector)."""
    gc.set_threshold(50_000, 20, 20)
    model.Session.registry.clear()
    if model.meta.engine is not None:
        model.meta.engine.dispose(close=False)


def _child_create(args: tuple[list[tuple[int, dict[str, Any]]], str, bool]
                  ) -> tuple[int, list[tuple[int, str]], int]:
    chunk, user, activity = args
    try:
        out = create_batch(chunk, user, activity)
        return len(out.created), out.errors, len(chunk)
    finally:
        model.Session.remove()


def update_rows(items: list[tuple[int, dict[str, Any]]], user: str) -> Outcome:
    """``package_patch`` each (row number, patch with ``id``); each commits on its own
    (validation errors are raised before anything is written). The slow path, for a row
    ``update_batch`` cannot write in bulk."""
    out = Outcome()
    for number, patch in items:
        try:
            tk.get_action("package_patch")(_context(user), dict(patch))
            out.updated.append(patch["id"])
        except tk.ValidationError as e:
            model.Session.rollback()
            out.errors.append((number, error_text(e.error_dict)))
        except Exception as e:  # a row must never take the import down with it
            model.Session.rollback()
            out.errors.append((number, bi(f"写入失败：{e}", f"Write failed: {e}")))
    return out


def validate_update(pkg: model.Package, data: dict[str, Any], user: str
                    ) -> tuple[dict[str, Any], dict]:
    """Validate ``data`` (a ``package_show`` dict with the new values) exactly as
    ``package_update`` does for ``pkg`` (same plugin, schema, call, ``package`` in context)."""
    plugin = lib_plugins.lookup_package_plugin(pkg.type)
    context = _context(user, package=pkg)
    return lib_plugins.plugin_validate(plugin, context, dict(data, id=pkg.id, type=pkg.type),
                                       plugin.update_package_schema(), "package_update")


# the package columns package_update may set from validated data
_UPDATE_COLUMNS = [c for c in _PKG_COLUMNS
                   if c not in ("id", "type", "extras", "plugin_data", "metadata_created",
                                "metadata_modified", "creator_user_id")]

# in a validated dict made field by field (delta.FieldDelta): the fields it holds
_DELTA = "__sanyi_field_delta"


def field_delta_enabled() -> bool:
    return tk.asbool(tk.config.get("ckanext.sanyi.catalog.import_field_delta", True))


def validate_updates(items: list[tuple[model.Package, dict[str, Any], dict[str, Any], list[str]]],
                     user: str) -> list[tuple[dict[str, Any], dict]]:
    """``validate_update`` for each (package, its ``package_show`` dict, patch, changed keys),
    field by field (:class:`delta.FieldDelta`) where it can be: the first row of each kind of
    change (the same validated fields, the same extras new to the dataset) is validated
    whole as well and must leave the same package row, else that kind is validated whole.
    A row the changed fields' validators refuse is validated whole, for ``package_update``'s
    own errors."""
    from .delta import FieldDelta, PerType
    deltas = PerType()
    orders: dict[tuple[Any, ...], list[str] | None] = {}  # kind -> extras order; None: whole
    out: list[tuple[dict[str, Any], dict]] = []
    use = field_delta_enabled()
    for pkg, show, patch, keys in items:
        data = dict(show, **patch)
        delta = deltas[pkg.type] if use else None
        fields = delta.fields(keys) if delta is not None else None
        if delta is None or fields is None:
            out.append(validate_update(pkg, data, user))
            continue
        stored, errors = delta.validate(fields, show, patch, _context(user, package=pkg))
        kind = delta.kind(pkg, fields, stored)
        if errors or orders.get(kind, []) is None:
            out.append(validate_update(pkg, data, user))
            continue
        if kind not in orders:
            full, full_errors = validate_update(pkg, data, user)
            order = [e["key"] for e in full.get("extras", [])]
            same = not full_errors and FieldDelta.same_row(
                pkg, full, delta.validated(pkg, fields, stored, order), _UPDATE_COLUMNS)
            if not same and not full_errors:
                log.warning("field-by-field validation of %s differs from the whole "
                            "validation of %s; such changes are validated whole", fields, pkg.id)
            orders[kind] = order if same else None
            out.append((full, full_errors))
            continue
        validated = delta.validated(pkg, fields, stored, orders[kind] or [])
        validated[_DELTA] = fields
        out.append((validated, {}))
    return out


def update_batch(items: list[tuple[int, str, dict[str, Any]]], user: str,
                 activity: bool = True, file: str = "") -> Outcome:
    """Write ``items`` ((row number, package id, data validated by ``validate_update``)) with
    the result ``package_update`` gives, in one transaction: the package rows with one
    UPDATE (SQLAlchemy core, executemany), the ``edit``/``after_dataset_update`` hooks,
    ``package_show`` and the index documents for the batch, and a "changed package"
    activity per dataset (naming ``file``). A row that moves to another organisation, or a
    batch that fails in the database, goes through ``package_patch`` one row at a time."""
    out = Outcome()
    user_obj = model.User.get(user)
    owners = dict(model.Session.execute(
        select(model.package_table.c.id, model.package_table.c.owner_org)
        .where(model.package_table.c.id.in_([i for _, i, _ in items]))).all())
    bulk_items = [(n, i, v) for n, i, v in items if i in owners
                  and v.get("owner_org", owners[i]) == owners[i]]
    slow = [(n, i, v) for n, i, v in items if (n, i, v) not in bulk_items]
    if bulk_items:
        try:
            _write_updates(bulk_items, user, user_obj, activity, file)
            model.repo.commit()
            out.updated += [i for _, i, _ in bulk_items]
        except Exception as e:  # noqa: BLE001 - the rows are retried one by one below
            model.Session.rollback()
            log.warning("bulk update failed (%s); falling back to package_patch per row", e,
                        exc_info=not isinstance(e, sa_exc.DBAPIError))
            slow = bulk_items + slow
    if slow:
        patches = [(n, _patch_of(v, i)) for n, i, v in sorted(slow, key=lambda t: t[0])]
        done = update_rows(patches, user)
        out.updated += done.updated
        out.errors += done.errors
    return out


def update_chunks(chunks: list[list[tuple[int, str, dict[str, Any]]]], user: str,
                  activity: bool, file: str = "", workers: int | None = None
                  ) -> Iterator[tuple[int, list[tuple[int, str]], int]]:
    """``update_batch`` each chunk; yields (updated, errors, rows done) per chunk, in
    forked worker processes as ``create_chunks`` does (one per core for more than four)."""
    todo = list(chunks)
    processes = worker_count(len(todo), workers)
    if processes > 1:
        first, todo = warm_split(todo)
        out = update_batch(first, user, activity, file)  # warms caches the children inherit
        yield len(out.updated), out.errors, len(first)
        yield from forked(_child_update, [(c, user, activity, file) for c in todo], processes)
        return
    for chunk in todo:
        out = update_batch(chunk, user, activity, file)
        yield len(out.updated), out.errors, len(chunk)


def _child_update(args: tuple[list[tuple[int, str, dict[str, Any]]], str, bool, str]
                  ) -> tuple[int, list[tuple[int, str]], int]:
    chunk, user, activity, file = args
    try:
        out = update_batch(chunk, user, activity, file)
        return len(out.updated), out.errors, len(chunk)
    finally:
        model.Session.remove()


def _patch_of(validated: dict[str, Any], pkg_id: str) -> dict[str, Any]:
    """The ``package_patch`` input for validated data: its columns and its extras."""
    patch = {c: validated[c] for c in _UPDATE_COLUMNS if c in validated}
    for e in validated.get("extras", []):
        patch.setdefault(e["key"], e["value"])
    patch["id"] = pkg_id
    return patch


def _write_updates(items: list[tuple[int, str, dict[str, Any]]], user: str,
                   user_obj: model.User | None, activity: bool, file: str) -> None:
    now = clock.now_utc().replace(tzinfo=None)  # as package_update: naive UTC
    items = [(n, i, dict(v)) for n, i, v in items]
    fields = {i: v.pop(_DELTA) for _, i, v in items if _DELTA in v}
    before = indexed_docs(list(fields), ("data_dict", "validated_data_dict"))
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for _, pkg_id, v in items:
        row = {c: v[c] for c in _UPDATE_COLUMNS if c in v}
        row["extras"] = {e["key"]: e["value"] for e in v.get("extras", [])}
        row["metadata_modified"] = now
        groups.setdefault(tuple(sorted(row)), []).append(dict(row, b_id=pkg_id))
    for keys, rows in groups.items():
        model.Session.execute(_update_statement(keys), {"rows": json.dumps(
            rows, ensure_ascii=False, default=_json_value)})
    ids = [i for _, i, _ in items]
    pkgs = {p.id: p for p in model.Session.query(model.Package)
            .filter(model.Package.id.in_(ids)).populate_existing()}
    context = _context(user)
    for _, pkg_id, v in items:
        pkg = pkgs[pkg_id]
        if pkg_id in fields:  # validated field by field: the changed fields and who it is
            v = dict(v, id=pkg_id, name=pkg.name, type=pkg.type)
        for item in plugins.PluginImplementations(plugins.IPackageController):
            item.edit(pkg)
            item.after_dataset_update(dict(context, package=pkg), v)
    order = {i: [e["key"] for e in v.get("extras", [])] for _, i, v in items}
    shown = shown_after_update([pkgs[i] for i in ids], user, order, fields, before)
    index_shown(shown)
    if activity:
        record_activities(shown, user_obj, "changed package",
                          extra={"import": {"file": file}} if file else None)


def _update_statement(keys: tuple[str, ...]) -> Any:
    """One UPDATE of the package rows in ``:rows`` (a JSON array of objects with ``b_id``
    and ``keys``, package columns): psycopg2's executemany sends a statement per row. Only
    the table's own column names (quoted) become SQL text; every value is in ``:rows``."""
    table = model.package_table
    unknown = set(keys) - set(_PKG_COLUMNS)
    if unknown:
        raise ValueError(f"not columns of {table.name}: {sorted(unknown)}")
    dialect = model.Session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    sets = ", ".join(f"{quote(k)} = x.{quote(k)}" for k in keys)
    types = ", ".join(f"{quote(k)} {table.c[k].type.compile(dialect=dialect)}" for k in keys)
    return text(f"UPDATE {quote(table.name)} AS p SET {sets} "
                f"FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(b_id text, {types}) "
                "WHERE p.id = x.b_id")


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"not a package column value: {type(value).__name__}")


def _write_new(good: list[tuple[int, dict[str, Any]]], user: str,
               user_obj: model.User | None, activity: bool) -> list[str]:
    now = clock.now_utc().replace(tzinfo=None)  # CKAN's columns: naive UTC
    session = model.Session
    names = [v["name"] for _, v in good]
    # package_create's table_dict_save: a deleted dataset gives up its name
    session.execute(update(model.package_table)
                    .where(model.package_table.c.name.in_(names),
                           model.package_table.c.state == model.State.DELETED)
                    .values(name=model.package_table.c.id)
                    .execution_options(synchronize_session=False))
    rows, members = [], []
    for _, v in good:
        v["id"] = model.types.make_uuid()
        if user_obj is not None:
            v["creator_user_id"] = user_obj.id
        rows.append(_package_row(v, now))
        if v.get("owner_org"):
            members.append({"id": model.types.make_uuid(), "table_id": v["id"],
                            "table_name": "package", "capacity": "organization",
                            "group_id": v["owner_org"], "state": "active"})
    session.execute(model.package_table.insert(), rows)
    if members:
        session.execute(model.member_table.insert(), members)
    ids = [v["id"] for _, v in good]
    pkgs = {p.id: p for p in session.query(model.Package).filter(model.Package.id.in_(ids))}
    context = _context(user)
    for _, v in good:
        for item in plugins.PluginImplementations(plugins.IPackageController):
            item.create(pkgs[v["id"]])
            item.after_dataset_create(context, v)
    # package_create dictizes its in-memory object, whose extras keep the validated order
    order = {v["id"]: [e["key"] for e in v.get("extras", [])] for _, v in good}
    shown = index_packages([pkgs[i] for i in ids], user, extras_order=order)
    if activity:
        record_activities(shown, user_obj, "new package")
    return ids


def _create_one_by_one(items: list[tuple[int, dict[str, Any]]], user: str,
                       out: Outcome) -> None:
    for number, data in items:
        savepoint = model.Session.begin_nested()
        try:
            pkg_id = tk.get_action("package_create")(
                _context(user, defer_commit=True, return_id_only=True), dict(data))
            savepoint.commit()
            out.created.append(pkg_id)
        except tk.ValidationError as e:
            savepoint.rollback()
            out.errors.append((number, error_text(e.error_dict)))
        except Exception as e:  # a row must never take the batch down with it
            savepoint.rollback()
            out.errors.append((number, bi(f"写入失败：{e}", f"Write failed: {e}")))
    ids = list(out.created)
    model.repo.commit()
    if ids:  # package_create with defer_commit leaves indexing to the caller
        index_packages(model.Session.query(model.Package)
                       .filter(model.Package.id.in_(ids)).all(), user)
        model.repo.commit()


# ---------------------------------------------------------------------------------------
# package_show for many datasets, and their index documents

def _org_dicts(org_ids: set[str], context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``package_dictize``'s "owning organization" part, once per organisation."""
    group = model.group_table
    out = {}
    for org_id in org_ids:
        q = select(group).where(group.c["id"] == org_id).where(group.c["state"] == "active")
        result = model.Session.execute(q).fetchall()
        orgs = d.obj_list_dictize(result, context)
        if orgs:
            del orgs[0]["extras"]
            out[org_id] = orgs[0]
    return out


def _has_more(pkg_ids: list[str]) -> set[str]:
    """Packages that have resources, tags, groups or relationships (dictized per row)."""
    found: set[str] = set()
    checks = [
        select(model.resource_table.c.package_id)
        .where(model.resource_table.c.package_id.in_(pkg_ids)),
        select(model.package_tag_table.c.package_id)
        .where(model.package_tag_table.c.package_id.in_(pkg_ids)),
        select(model.member_table.c.table_id)
        .join(model.group_table, model.group_table.c.id == model.member_table.c.group_id)
        .where(model.member_table.c.table_id.in_(pkg_ids),
               model.group_table.c.is_organization.is_(False)),
        select(model.package_relationship_table.c.subject_package_id)
        .where(model.package_relationship_table.c.subject_package_id.in_(pkg_ids)),
        select(model.package_relationship_table.c.object_package_id)
        .where(model.package_relationship_table.c.object_package_id.in_(pkg_ids)),
    ]
    for q in checks:
        found.update(r[0] for r in model.Session.execute(q))
    return found


def _dictize(pkg: model.Package, context: dict[str, Any],
             orgs: dict[str, dict[str, Any]], extras_order: list[str] | None = None
             ) -> dict[str, Any]:
    """``model_dictize.package_dictize`` for a package without resources, tags, groups or
    relationships (``_has_more`` sends the others to the real one)."""
    result = d.table_dictize(pkg, context)
    if result.get("title"):
        result["title"] = result["title"].strip()
    result.pop("plugin_data", None)
    result["resources"] = []
    result["num_resources"] = 0
    result["tags"] = []
    result["num_tags"] = 0
    extras = result["extras"] or {}
    keys = [k for k in extras_order or [] if k in extras]
    keys += [k for k in extras if k not in keys]
    result["extras"] = [{"key": k, "value": extras[k]} for k in keys]
    context["with_capacity"] = False
    result["groups"] = []
    org = orgs.get(pkg.owner_org) if pkg.owner_org else None
    result["organization"] = copy.deepcopy(org) if org else None
    result["relationships_as_subject"] = []
    result["relationships_as_object"] = []
    result["isopen"] = pkg.isopen()
    result["type"] = pkg.type or "dataset"
    if pkg.license and pkg.license.url:
        result["license_url"] = pkg.license.url
        result["license_title"] = pkg.license.title.split("::")[-1]
    elif pkg.license:
        result["license_title"] = pkg.license.title
    else:
        result["license_title"] = pkg.license_id
    result["metadata_modified"] = pkg.metadata_modified.isoformat()
    result["metadata_created"] = (pkg.metadata_created.isoformat()
                                  if pkg.metadata_created else None)
    return result


def show_packages(pkgs: list[model.Package], user: str,
                  extras_order: dict[str, list[str]] | None = None, custom_only: bool = False
                  ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``logic.package_show_default_and_custom_schemas`` for many packages at once (with
    ``custom_only``, the first of each pair is empty: only ``package_show``'s answer)."""
    base = _context(user, use_cache=False, validate=False, auth_user_obj=None)
    orgs = _org_dicts({p.owner_org for p in pkgs if p.owner_org}, base)
    more = _has_more([p.id for p in pkgs])
    default_schema = default_show_package_schema()
    out = []
    for pkg in pkgs:
        if pkg.id in more:
            out.append(logic.package_show_default_and_custom_schemas(dict(base), pkg.id))
            continue
        context = dict(base, package=pkg)
        dictized = _dictize(pkg, context, orgs, (extras_order or {}).get(pkg.id))
        for item in plugins.PluginImplementations(plugins.IPackageController):
            item.read(pkg)
        plugin = lib_plugins.lookup_package_plugin(dictized["type"])
        custom_schema = plugin.show_package_schema()
        if custom_only and custom_schema != default_schema:
            with_default = {}
        else:
            with_default, _ = lib_plugins.plugin_validate(
                object(), context, dictized, default_schema, "package_show")
        if custom_schema == default_schema:
            with_custom = with_default
        else:
            with_custom, _ = lib_plugins.plugin_validate(
                plugin, context, dictized, custom_schema, "package_show")
        logic.apply_after_dataset_show_plugins(context, with_custom)
        out.append((with_default, with_custom))
    return out


_SHOW_SEARCH_IDS = 200  # ids per search of indexed_docs (a query is at most 20,000 characters)


def indexed_docs(pkg_ids: list[str], blobs: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The index documents of ``pkg_ids`` (``id``, ``metadata_modified`` and ``blobs``) that
    agree with the package's ``metadata_modified`` (:func:`_same_time`), i.e. that hold the
    package as it is now. One search per 200 ids; none where the index does not answer."""
    if not pkg_ids:
        return {}
    modified = dict(model.Session.execute(
        select(model.package_table.c.id, model.package_table.c.metadata_modified)
        .where(model.package_table.c.id.in_(pkg_ids))).all())
    found: dict[str, dict[str, Any]] = {}
    conn = search.make_connection(decode_dates=False)
    for start in range(0, len(pkg_ids), _SHOW_SEARCH_IDS):  # a query stays short
        part = pkg_ids[start:start + _SHOW_SEARCH_IDS]
        ids = " OR ".join(f'"{i}"' for i in part)  # package ids: uuids
        try:
            docs = conn.search(
                q=f"id:({ids})", rows=len(part), wt="json",
                fq=f'+site_id:"{tk.config.get("ckan.site_id")}" +entity_type:package',
                fl=" ".join(("id", "metadata_modified") + blobs)).docs
        except SearchError:
            log.warning("the search index did not answer for %d datasets", len(part),
                        exc_info=True)
            continue
        for doc in docs:
            when = modified.get(doc["id"])
            if when is not None and all(doc.get(b) for b in blobs) and \
                    _same_time(doc.get("metadata_modified"), when):
                found[doc["id"]] = doc
    return found


def _same_time(indexed: Any, when: dt.datetime) -> bool:
    """Whether the index's ``metadata_modified`` (``2026-12-04T04:20:19.5Z``: to the
    millisecond, trailing zeros dropped) is the package's (naive UTC, to the microsecond)."""
    try:
        at = dt.datetime.fromisoformat(str(indexed))
    except ValueError:
        return False
    if at.tzinfo is not None:
        at = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return abs(at - when) < dt.timedelta(milliseconds=1)


def _show_hooks(pkg: model.Package, context: dict[str, Any], shown: dict[str, Any]) -> None:
    """The ``read`` and ``after_dataset_show`` hooks ``package_show`` runs on a dict it did
    not validate itself (the index's)."""
    for item in plugins.PluginImplementations(plugins.IPackageController):
        item.read(pkg)
    logic.apply_after_dataset_show_plugins(context, shown)


def cached_shows(pkgs: list[model.Package], user: str
                 ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``package_show``'s answers for ``pkgs`` (the pairs of :func:`show_packages`, the first
    of each empty), taken as ``package_show`` takes them with its default ``use_cache``: the
    ``validated_data_dict`` the search index holds while it holds the package as it is now
    (:func:`indexed_docs`), then the ``read`` and ``after_dataset_show`` hooks. One search
    for the batch instead of a dictization and a validation per dataset; a package the index
    does not hold as it is now is shown by :func:`show_packages`."""
    found = indexed_docs([p.id for p in pkgs], ("validated_data_dict",))
    out: list[tuple[dict[str, Any], dict[str, Any]] | None] = []
    missing = []
    base = _context(user)
    for pkg in pkgs:
        doc = found.get(pkg.id)
        if doc is None:
            out.append(None)
            missing.append(pkg)
            continue
        shown = json.loads(doc["validated_data_dict"])
        _show_hooks(pkg, dict(base, package=pkg), shown)
        out.append(({}, shown))
    rest = iter(show_packages(missing, user, custom_only=True)) if missing else iter(())
    return [pair if pair is not None else next(rest) for pair in out]


def index_packages(pkgs: list[model.Package], user: str,
                   extras_order: dict[str, list[str]] | None = None
                   ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Index ``pkgs`` in the current transaction (the caller commits); returns the shows."""
    shown = show_packages(pkgs, user, extras_order)
    index_shown(shown)
    return shown


def index_shown(shown: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Index the (default, custom) ``package_show`` pairs in the current transaction."""
    index = index_for(model.Package)
    with search.batched_writes():  # CKAN builds each document; one backend write per batch
        for default, custom in shown:
            index.update_dict(dict(default, with_custom_schema=custom), defer_commit=True)


def shown_after_update(pkgs: list[model.Package], user: str, extras_order: dict[str, list[str]],
                       fields: dict[str, list[str]], before: dict[str, dict[str, Any]]
                       ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """:func:`show_packages` for updated ``pkgs``; a package validated field by field
    (``fields``: id -> its fields) whose index document ``before`` the update was current
    is shown field by field from it (:meth:`delta.FieldDelta.shown`), the ``read`` and
    ``after_dataset_show`` hooks applied as :func:`cached_shows` applies them. The first of
    each kind (the same fields) is shown whole as well and must be equal, else the packages
    of that kind are shown whole."""
    from .delta import PerType
    deltas = PerType()
    same: dict[tuple[Any, ...], bool] = {}
    base = _context(user, use_cache=False, validate=False, auth_user_obj=None)
    has_more = _has_more([p.id for p in pkgs if p.id in fields])
    out: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for pkg in pkgs:
        doc = before.get(pkg.id)
        kind = (pkg.type, tuple(fields.get(pkg.id, ())))
        if doc is None or pkg.id in has_more or same.get(kind) is False:
            continue
        context = dict(base, package=pkg)
        pair = deltas[pkg.type].shown(json.loads(doc["data_dict"]),
                                      json.loads(doc["validated_data_dict"]),
                                      pkg, fields[pkg.id], context)
        if pair is None:
            continue
        _show_hooks(pkg, context, pair[1])
        if kind not in same:
            whole = show_packages([pkg], user, extras_order)[0]
            same[kind] = whole == pair
            if not same[kind]:
                log.warning("field-by-field show of %s differs from package_show of %s; "
                            "such changes are shown whole", fields[pkg.id], pkg.id)
            pair = whole
        out[pkg.id] = pair
    rest = [p for p in pkgs if p.id not in out]
    out.update((p.id, pair) for p, pair in zip(rest, show_packages(rest, user, extras_order),
                                                strict=True))
    return [out[p.id] for p in pkgs]


def record_activities(shown: list[tuple[dict[str, Any], dict[str, Any]]],
                      user_obj: model.User | None, activity_type: str,
                      extra: dict[str, Any] | None = None) -> None:
    """The activity ``package_create``/``package_update`` records, for many datasets."""
    if user_obj is None or not tk.config.get("ckan.activity_streams_enabled"):
        return
    try:
        from ckanext.activity.model import Activity
    except ImportError:  # activity plugin not installed
        return
    if not plugins.plugin_loaded("activity"):
        return
    labels = lib_plugins.get_permission_labels()
    rows = []
    for _, custom in shown:
        pkg = model.Package.get(custom["id"])
        rows.append({  # the row ``Activity(...)`` makes; one INSERT, no ORM objects
            "id": make_uuid(), "timestamp": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            "user_id": user_obj.id, "object_id": custom["id"], "activity_type": activity_type,
            "data": dict({"package": custom, "actor": user_obj.name}, **(extra or {})),
            "permission_labels": labels.get_dataset_labels(pkg)})
    if rows:
        model.Session.execute(Activity.__table__.insert(), rows)
