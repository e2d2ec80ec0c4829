"""Import of catalog resources from CSV or XLSX (first-batch layout): plan, then apply.

* :func:`plan_file` reads the file (``import_rows``: lenient cells, a title row above the
  header) and decides, row by row, without writing anything: *add* (with the fields that
  get defaults), *change* (with the changed fields, before and after), *unchanged*, or
  *reject* (row number and a field-level reason in Chinese and English). Every row is
  validated with the catalog schema itself (``package_create``'s for a new row,
  ``package_update``'s for a changed one, on the dataset ``package_patch`` would send), so
  what the plan accepts is what gets written. A 数源单位 matching no unit is rejected naming
  the closest units, unless units may be created (``create_units``: bureau staff only).
  Each row must belong to a unit the importing user may edit (``allowed_orgs`` narrows it
  further, e.g. to the unit whose page the file was uploaded on).
* :func:`apply_plan` writes exactly the plan: new rows through ``bulk.create_chunks``,
  changed rows through ``bulk.update_batch`` (a bulk UPDATE, index write and activity insert
  per batch; every updated resource gets its own "changed package" activity naming the
  file). ``Plan.digest`` identifies a plan, so a confirmed preview is applied only if it is
  still the same.
* :func:`import_file` does both (the command line). A row's identity is (数源单位, 名称),
  its URL name derived from them; for a resource that exists only the cells the file fills
  in are changed; re-importing a file, or an export, changes nothing. Each run is recorded
  as one activity (``sanyi import catalog``) of the importing user, with the counts.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any, Callable

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk

from ..common import clock, roles, tabular
from ..common.i18n_text import MISSING, bi
from ..common.user import site_user_name
from ..domain import catalog_input as ci
from . import units
from .import_rows import (
    ADD,
    CHANGE,
    IMPORT_ACTIVITY,
    REJECT,
    UNCHANGED,
    ImportFileError,
    ImportReport,
    Plan,
    PlanRow,
    RowError,
    changed_keys,
    defaulted,
    display,
    is_unchanged,
    lenient,
    read_rows,
    resource_name,
    row_to_dataset,
    row_to_patch,
)

__all__ = ["plan_file", "apply_plan", "import_file", "record_import", "may_edit",
           "read_rows", "row_to_dataset", "row_to_patch", "is_unchanged", "resource_name",
           "Plan", "PlanRow", "ImportReport", "ImportFileError", "RowError", "IMPORT_ACTIVITY",
           "ADD", "CHANGE", "UNCHANGED", "REJECT"]


def may_edit(user: model.User, org_id: str) -> bool:
    """``user`` may import rows of organisation ``org_id``: bureau staff (sysadmins included)
    for any unit, otherwise an editor or admin of that unit."""
    return roles.is_bureau_staff(user) or authz.has_user_permission_for_group_or_org(
        org_id, user.name, "update_dataset")


def importing_user(name: str | None) -> model.User:
    user = model.User.get(name or site_user_name())
    if user is None or user.state != "active":
        raise ImportFileError({"user": [bi(f"未知的用户“{name}”", f"Unknown user '{name}'")]})
    return user


class _StandIn:
    """An organisation not created yet: what ``row_to_dataset`` reads from one."""

    def __init__(self, title: str, placeholder: str) -> None:
        self.name = units.unit_name(title)
        self.title = title
        self.id = placeholder


def _unit_candidates() -> list[str]:
    q = model.Session.query(model.Group.title).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active",
        model.Group.name.notin_([roles.bureau_org(), roles.operator_org()]))
    return [t for (t,) in q if t]


def _find_unit(title: str, folded: dict[str, model.Group] | None) -> model.Group | None:
    org = units.find_unit(title)
    if org is None and folded is not None:
        org = folded.get(ci.fold(title))
    return org


def plan_file(path: str, *, batch: str = "", create_units: bool = False,
              today: dt.date | None = None, user: str | None = None,
              allowed_orgs: set[str] | None = None, default_unit: str | None = None,
              batch_size: int = 1000, name: str | None = None,
              workers: int | None = None) -> Plan:
    """What importing ``path`` would do, row by row; writes nothing.

    :param create_units: unknown units would be created (honoured for bureau staff only)
    :param allowed_orgs: ids of the only organisations rows may belong to
    :param default_unit: the unit of a row whose 数源单位 is blank (reported as defaulted)
    :param name: the file's name as the user knows it (default: the path's)
    :param workers: processes validating the rows (default: one per CPU core, for files of
        more than 4 batches; 1 = in this process only)
    """
    from . import bulk
    today = today or clock.today()
    user_obj = importing_user(user)
    if create_units and not roles.is_bureau_staff(user_obj):
        raise ImportFileError({"create_units": [bi(
            "只有数据局工作人员可以在导入时新建数源单位",
            "Only data bureau staff may create data units while importing")]})
    plan = Plan(file=name or os.path.basename(path), sha256=tabular.sha256(path),
                user=user_obj.name, rows=[])
    rows = list(read_rows(path))  # ImportFileError before anything else
    labels = bulk.field_labels()
    orgs: dict[str, model.Group | None] = {}
    folded: dict[str, model.Group] | None = None
    seen: dict[str, int] = {}
    placeholder = ""
    pending: list[tuple[PlanRow, dict[str, str], Any]] = []
    for number, raw in rows:
        row, date_errors = lenient(raw)
        out = PlanRow(number, REJECT, unit=row.get("unit", ""), title=row.get("title", ""))
        plan.rows.append(out)
        if not row.get("unit") and default_unit:
            row["unit"] = out.unit = default_unit
            out.defaulted.append(("unit", default_unit))
        missing = [k for k in ("unit", "title") if not row.get(k)]
        if missing:
            names = {"unit": ("数源单位", "Source unit"), "title": labels.get("title")}
            out.reason = " | ".join(f"{names[k][0]} / {names[k][1]}: {MISSING}"
                                    for k in missing)
            continue
        if date_errors:
            out.reason = " | ".join(date_errors)
            continue
        title = row["unit"]
        if title not in orgs:
            if folded is None and units.find_unit(title) is None:
                folded = {ci.fold(o.title): o for o in model.Session.query(model.Group).filter(
                    model.Group.is_organization.is_(True), model.Group.state == "active")}
            orgs[title] = _find_unit(title, folded)
        org = orgs[title]
        if org is None and not create_units:
            near = ci.closest(title, _unit_candidates())
            zh_near = f"；最接近的单位：{'、'.join(near)}" if near else ""
            en_near = f"; closest: {', '.join(near)}" if near else ""
            out.reason = ("数源单位 / Source unit: "
                          + bi(f"未知的数源单位“{title}”{zh_near}",
                               f"Unknown source unit '{title}'{en_near}"))
            continue
        if org is not None and not ((allowed_orgs is None or org.id in allowed_orgs)
                                    and may_edit(user_obj, org.id)):
            out.reason = "数源单位 / Source unit: " + bi(
                f"用户“{user_obj.name}”不能导入“{org.title}”的资源（只能导入本单位的资源）",
                f"User '{user_obj.name}' may not import resources of '{org.title}' "
                "(only those of their own unit)")
            continue
        if org is None:
            if not placeholder:
                any_org = model.Session.query(model.Group).filter(
                    model.Group.is_organization.is_(True),
                    model.Group.state == "active").first()
                placeholder = any_org.id if any_org else ""
            org = _StandIn(title, placeholder)
        out.name = resource_name(org.name, row["title"])
        if out.name in seen:
            out.reason = bi(
                f"与第 {seen[out.name]} 行重复（数源单位和数据资源名称相同）：{row['unit']}·{row['title']}",
                f"Duplicate of row {seen[out.name]}: {row['unit']} · {row['title']}")
            continue
        seen[out.name] = number
        pending.append((out, row, org))
    chunks = [pending[start:start + batch_size] for start in range(0, len(pending), batch_size)]
    _plan_chunks(chunks, batch, today, user_obj.name, workers)
    plan.new_units = {r.unit: units.unit_name(r.unit) for r, _, org in pending
                      if isinstance(org, _StandIn) and r.action == ADD}
    return plan


_Chunk = list[tuple[PlanRow, dict[str, str], Any]]
_forked_plan: tuple[list[_Chunk], str, dt.date, str] | None = None  # what forked workers plan


def _plan_chunks(chunks: list[_Chunk], batch: str, today: dt.date, user: str,
                 workers: int | None) -> None:
    """``_plan_chunk`` each chunk. With more than one worker (the rule of
    ``bulk.create_chunks``) the first chunk is planned here, the others in forked processes
    that read (never write) with connections of their own and send back their rows."""
    global _forked_plan
    from . import bulk
    processes = bulk.worker_count(len(chunks), workers)
    if processes <= 1:
        for chunk in chunks:
            _plan_chunk(chunk, batch, today, user)
        return
    first, rest = bulk.warm_split(chunks)
    chunks = [first] + rest
    _plan_chunk(first, batch, today, user)  # warms caches the children inherit
    _forked_plan = (chunks, batch, today, user)
    try:
        for i, rows in bulk.forked(_plan_child, range(1, len(chunks)), processes):
            for out, done in zip((r for r, _, _ in chunks[i]), rows, strict=True):
                out.__dict__.update(done.__dict__)
    finally:
        _forked_plan = None


def _plan_child(i: int) -> tuple[int, list[PlanRow]]:
    assert _forked_plan is not None
    chunks, batch, today, user = _forked_plan
    _plan_chunk(chunks[i], batch, today, user)
    return i, [out for out, _, _ in chunks[i]]


def _plan_chunk(chunk: _Chunk, batch: str, today: dt.date, user: str) -> None:
    from . import bulk
    existing = {p.name: p for p in model.Session.query(model.Package).filter(
        model.Package.name.in_([r.name for r, _, _ in chunk]),
        model.Package.state != "deleted")}
    # a resource created on the web has a URL name of its own: found by unit and title
    others = [(org.id, row["title"]) for out, row, org in chunk
              if out.name not in existing and not isinstance(org, _StandIn)]
    by_title: dict[tuple[str, str], model.Package] = {}
    if others:
        for p in model.Session.query(model.Package).filter(
                model.Package.owner_org.in_({o for o, _ in others}),
                model.Package.title.in_({t for _, t in others}),
                model.Package.type == "dataset", model.Package.state == "active"):
            by_title.setdefault((p.owner_org, p.title), p)
    changing: list[tuple[PlanRow, model.Package, dict[str, Any]]] = []
    for out, row, org in chunk:
        pkg = existing.get(out.name) or by_title.get((org.id, row["title"]))
        if pkg is not None and pkg.name != out.name:
            out.name = pkg.name
            existing[pkg.name] = pkg
        if pkg is None:
            data = row_to_dataset(row, org, batch, today)
            _, errors = bulk.validate_create(data, user)
            if isinstance(org, _StandIn):
                errors.pop("owner_org", None)
                errors.pop("name", None)
            if errors:
                out.reason = bulk.error_text(errors)
                continue
            out.action, out.data = ADD, data
            out.defaulted += defaulted(row, data)
            continue
        patch = row_to_patch(row, batch)
        if pkg.owner_org != org.id:  # moved on the web: the file says
            patch["owner_org"] = org.id
        keys = changed_keys(pkg, patch) if pkg.state == "active" else list(patch)
        if not keys:
            out.action, out.pkg_id = UNCHANGED, pkg.id
            continue
        changing.append((out, pkg, patch))
        out.changes = [(k, k, "") for k in keys]
    if changing:
        shown = bulk.cached_shows([p for _, p, _ in changing], user)
        results = bulk.validate_updates(
            [(pkg, custom, patch, [k for k, _, _ in out.changes])
             for (out, pkg, patch), (_, custom) in zip(changing, shown, strict=True)], user)
        for (out, pkg, patch), (_, custom), (validated, errors) in zip(
                changing, shown, results, strict=True):
            if errors:
                out.reason, out.changes = bulk.error_text(errors), []
                continue
            out.action, out.pkg_id, out.data = CHANGE, pkg.id, validated
            out.modified = pkg.metadata_modified.isoformat()
            before = custom.get("organization") or {}
            out.changes = [
                (k, (before.get("title", "") if k == "owner_org" else display(k, custom.get(k))),
                 (units_title(patch[k]) if k == "owner_org" else display(k, patch[k])))
                for k, _, _ in out.changes]
    for pkg in existing.values():  # 100,000 rows: don't keep them all in the session
        if pkg in model.Session:
            model.Session.expunge(pkg)


def units_title(org_id: str) -> str:
    org = model.Group.get(org_id)
    return org.title if org else org_id


def apply_plan(plan: Plan, *, activity: bool = True, workers: int | None = None,
               batch_size: int = 1000, progress: bool = False) -> ImportReport:
    """Write what ``plan`` says (its rejected rows are reported, not written)."""
    from . import bulk
    report = ImportReport(file=plan.file, rows=len(plan.rows))
    report.unchanged = len(plan.of(UNCHANGED))
    report.errors = [RowError(r.row, r.reason) for r in plan.of(REJECT)]
    bar = _progress(len(plan.rows), progress)
    bar(report.unchanged + len(report.errors))
    created_units = {}
    for title in plan.new_units:
        created_units[title] = units.find_unit(title) or units.create_unit(title, plan.user)
        report.units_created += 1
    new = []
    for r in plan.of(ADD):
        data = dict(r.data)
        if r.unit in created_units:
            data["owner_org"] = created_units[r.unit].id
        new.append((r.row, data))
    chunks = [new[i:i + batch_size] for i in range(0, len(new), batch_size)]
    for created, errors, done in bulk.create_chunks(chunks, plan.user, activity, workers):
        report.created += created
        report.errors += [RowError(n, m) for n, m in errors]
        bar(done)
    changed = [(r.row, r.pkg_id, r.data) for r in plan.of(CHANGE)]
    parts = [changed[i:i + batch_size] for i in range(0, len(changed), batch_size)]
    for updated, errors, done in bulk.update_chunks(parts, plan.user, activity, plan.file,
                                                    workers):
        report.updated += updated
        report.errors += [RowError(n, m) for n, m in errors]
        bar(done)
    bar(0, done=True)
    report.errors.sort(key=lambda e: e.row)
    report.activity_id = record_import(report, plan.user)
    return report


def import_file(path: str, batch: str = "", create_units: bool = True, progress: bool = False,
                today: dt.date | None = None, user: str | None = None,
                batch_size: int = 1000, activity: bool = True,
                workers: int | None = None, check_user: bool = False) -> ImportReport:
    """Plan and apply ``path``; returns counts and the bad rows. Commits batch by batch.

    :param user: who imports (default: the site user); recorded in the activities
    :param create_units: create unknown units (only for bureau staff with ``check_user``)
    :param check_user: refuse ``create_units`` for a user who is not bureau staff (as the
        command line does); otherwise it is just not honoured for them
    :param activity: also record the per-dataset activities (as the web does)
    :param workers: processes validating and writing the rows (default: one per CPU core,
        for imports of more than 4 batches; 1 = in this process only)
    """
    user_obj = importing_user(user)
    if create_units and not check_user and not roles.is_bureau_staff(user_obj):
        create_units = False
    plan = plan_file(path, batch=batch, create_units=create_units, today=today,
                     user=user_obj.name, batch_size=batch_size, workers=workers)
    return apply_plan(plan, activity=activity, workers=workers, batch_size=batch_size,
                      progress=progress)


def record_import(report: ImportReport, user: str) -> str | None:
    """One activity per import run: who, which file, the counts and the bad rows."""
    if not tk.config.get("ckan.activity_streams_enabled"):
        return None
    try:
        from ckanext.activity.model import Activity
    except ImportError:
        return None
    import ckan.plugins as plugins
    if not plugins.plugin_loaded("activity"):
        return None
    user_obj = model.User.get(user)
    if user_obj is None:
        return None
    act = Activity(user_obj.id, user_obj.id, IMPORT_ACTIVITY, {
        "actor": user_obj.name,
        "import": {"file": report.file, "rows": report.rows, "created": report.created,
                   "updated": report.updated, "unchanged": report.unchanged,
                   "units_created": report.units_created, "errors": len(report.errors),
                   "error_rows": [e.row for e in report.errors[:1000]]},
    })
    model.Session.add(act)
    model.repo.commit()
    return act.id


def _progress(total: int, enabled: bool) -> Callable[..., None]:
    if not enabled:
        return lambda n, done=False: None
    import click
    bar = click.progressbar(length=total, label="导入 / importing", show_pos=True,
                            show_percent=True, show_eta=True)
    bar.__enter__()

    def step(n: int, done: bool = False) -> None:
        bar.update(n)
        if done:
            bar.__exit__(None, None, None)
    return step
