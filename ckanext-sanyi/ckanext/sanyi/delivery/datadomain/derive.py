"""Tables derived from the source tables, for the cohort statistics (回顾性疗效安全性研究).

Counting the distinct users of a drug over a window reads every prescription of that drug in
the window (half a million rows a year for 苯磺酸氨氯地平片 at a million persons), and distinct
persons cannot be summed from monthly counts. So, for each measure (:data:`MEASURES`: persons
prescribed a drug, persons reporting an adverse reaction to it):

* ``<measure>`` — one row per drug × person: the person's sex and date of birth and the
  **months** in which they were prescribed the drug (or had the reaction) as a sorted
  ``int[]`` of month numbers (``year * 12 + month - 1``), with the first and the last. A person
  is an identity number with its sex and date of birth among insured persons of known sex
  (:data:`SEX_CODES`) and date of birth; an identity number holding several such (a
  duplicated person in an extract) is ``shared`` and has one row per (sex, date of birth).
* ``<measure>_months`` — the first table summed, without the shared persons: persons per
  (drug, sex, birth key, month used, previous month used). A person used the drug in the
  months ``A..B`` exactly when, among the months they used it, one lies in ``A..B`` with the
  previous one before ``A``: summing the rows with ``A <= month <= B`` and
  ``prev_month < A`` counts each such person once. The birth key (the birth month's number
  × 2, plus 1 when born after the month's first day) gives the age on the first day of any
  month (the cohort's windows are whole months), hence the age band.

:func:`refresh` rebuilds them (in the caller's transaction) after a generation
(:func:`.generate.generate`), after each load of ``persons``, ``prescriptions`` or
``adverse_events`` (:func:`.loader.write`) and from ``ckan sanyi domain derive``; each refresh
is stamped in ``derivations`` with the last load it follows, so :func:`ensure` (run by
:func:`.store.ensure_schema`) rebuilds only what no longer follows the loads. Rows written to
a source table without a load are not seen until the next refresh.

These tables back no catalog resource and no operation returns their rows; the operations
reading them declare the source fields they are derived from.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from .sources import SCHEMA
from .tables import TIMESTAMP, loads, metadata

__all__ = ["Measure", "MEASURES", "SEX_CODES", "INPUTS", "derivations", "refresh", "ensure",
           "stale", "measure", "month_number", "birth_key"]

SEX_CODES = ("1", "2")  # 男, 女: the cohort's population has a known sex


@dataclass(frozen=True)
class Measure:
    name: str          # the per-person table; its sum is name + "_months"
    source: str        # the source table
    day: str           # its date column
    persons: sa.Table
    months: sa.Table

    @property
    def inputs(self) -> tuple[str, str]:
        return ("persons", self.source)


def _per_person(name: str) -> sa.Table:
    t = sa.Table(
        name, metadata,
        sa.Column("drug_name", sa.UnicodeText, nullable=False),
        sa.Column("id_number", sa.Unicode(64), nullable=False),
        sa.Column("sex", sa.Unicode(64), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("first_month", sa.Integer, nullable=False),
        sa.Column("last_month", sa.Integer, nullable=False),
        sa.Column("months", pg.ARRAY(sa.Integer), nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        comment="derived: one row per drug and person (months used)")
    # the cohort reads this table for the shared persons only (the others are summed)
    sa.Index(f"ix_{name}_drug_name_shared", t.c.drug_name, postgresql_where=t.c.shared)
    return t


def _summed(name: str) -> sa.Table:
    t = sa.Table(
        f"{name}_months", metadata,
        sa.Column("drug_name", sa.UnicodeText, nullable=False),
        sa.Column("sex", sa.Unicode(64), nullable=False),
        sa.Column("birth_key", sa.Integer, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("prev_month", sa.Integer, nullable=False),   # 0: none before
        sa.Column("persons", sa.Integer, nullable=False),
        comment=f"derived: {name} summed per drug, sex, birth key, month and previous month")
    sa.Index(f"ix_{name}_months_drug_name_month", t.c.drug_name, t.c.month,
             postgresql_include=["prev_month", "sex", "birth_key", "persons"])
    return t


MEASURES: tuple[Measure, ...] = (
    Measure("drug_use", "prescriptions", "prescribed_on", _per_person("drug_use"),
            _summed("drug_use")),
    Measure("drug_reaction", "adverse_events", "onset_date", _per_person("drug_reaction"),
            _summed("drug_reaction")),
)
INPUTS = frozenset(t for m in MEASURES for t in m.inputs)

derivations = sa.Table(
    "derivations", metadata,
    sa.Column("name", sa.Unicode(64), primary_key=True),
    sa.Column("loads_id", sa.Integer, nullable=False),   # the last load of its inputs, 0: none
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("refreshed_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
    comment="derived tables: the last load each refresh follows")


def measure(name: str) -> Measure:
    return next(m for m in MEASURES if m.name == name)


def month_number(year: int, month: int) -> int:
    """The number of a month in the derived tables (and of their ``months``)."""
    return year * 12 + month - 1


def birth_key(year: int, month: int, day: int) -> int:
    """The birth key of a date of birth: its month's number × 2, plus 1 after the 1st."""
    return month_number(year, month) * 2 + (1 if day > 1 else 0)


def _month_sql(column: str) -> str:
    return f"(extract(year from {column}) * 12 + extract(month from {column}) - 1)::int"


def _per_person_sql(m: Measure) -> str:
    s, day = f'{SCHEMA}."{m.source}"', f'"{m.day}"'
    codes = ", ".join(f"'{c}'" for c in SEX_CODES)
    return f"""
        INSERT INTO {SCHEMA}."{m.persons.name}" (drug_name, id_number, sex, birth_date,
                                                 first_month, last_month, months, shared)
        WITH used AS (
            SELECT drug_name, id_number, array_agg(month ORDER BY month) AS months
            FROM (SELECT DISTINCT drug_name, id_number, {_month_sql(day)} AS month
                  FROM {s} WHERE {day} IS NOT NULL) AS monthly
            GROUP BY drug_name, id_number),
        people AS (
            SELECT id_number, sex, birth_date,
                   count(*) OVER (PARTITION BY id_number) > 1 AS shared
            FROM (SELECT DISTINCT id_number, sex, birth_date FROM {SCHEMA}."persons"
                  WHERE sex IN ({codes}) AND birth_date IS NOT NULL) AS known)
        SELECT u.drug_name, u.id_number, p.sex, p.birth_date, u.months[1],
               u.months[cardinality(u.months)], u.months, p.shared
        FROM used AS u JOIN people AS p ON p.id_number = u.id_number
        ORDER BY u.drug_name, u.id_number"""


def _summed_sql(m: Measure) -> str:
    b = "u.birth_date"
    return f"""
        INSERT INTO {SCHEMA}."{m.months.name}" (drug_name, sex, birth_key, month, prev_month,
                                                persons)
        SELECT u.drug_name, u.sex,
               {_month_sql(b)} * 2 + (extract(day from {b}) > 1)::int AS birth_key,
               used.month, coalesce(u.months[used.i::int - 1], 0) AS prev_month, count(*)
        FROM {SCHEMA}."{m.persons.name}" AS u
        CROSS JOIN LATERAL unnest(u.months) WITH ORDINALITY AS used(month, i)
        WHERE NOT u.shared
        GROUP BY u.drug_name, u.sex, birth_key, used.month, prev_month
        ORDER BY u.drug_name, used.month"""


def _last_load(conn: sa.engine.Connection, m: Measure) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(loads.c.id), 0))
                            .where(loads.c.source_table.in_(m.inputs))).scalar_one())


def _affected(tables: Iterable[str] | None) -> list[Measure]:
    if tables is None:
        return list(MEASURES)
    names = set(tables)
    return [m for m in MEASURES if names & set(m.inputs)]


def _refresh(conn: sa.engine.Connection, m: Measure, truncate: bool) -> dict[str, int]:
    for t in (m.months, m.persons):
        if truncate:
            conn.execute(sa.text(f'TRUNCATE {SCHEMA}."{t.name}"'))
        else:
            conn.execute(t.delete())
    out = {m.persons.name: conn.execute(sa.text(_per_person_sql(m))).rowcount}
    conn.execute(sa.text(f'ANALYZE {SCHEMA}."{m.persons.name}"'))
    out[m.months.name] = conn.execute(sa.text(_summed_sql(m))).rowcount
    conn.execute(sa.text(f'ANALYZE {SCHEMA}."{m.months.name}"'))
    stamp = {"loads_id": _last_load(conn, m), "rows": out[m.persons.name],
             "refreshed_at": sa.func.now()}
    conn.execute(pg.insert(derivations).values(name=m.name, **stamp)
                 .on_conflict_do_update(index_elements=["name"], set_=stamp))
    return out


def refresh(conn: sa.engine.Connection, tables: Iterable[str] | None = None, *,
            truncate: bool = False) -> dict[str, int]:
    """Rebuild the derived tables that follow the source ``tables`` (default: all) in
    ``conn``'s transaction: ``{derived table: rows}``. Rows are deleted (readers keep the old
    ones until the commit) unless ``truncate`` (faster; locks readers out until the commit)."""
    out: dict[str, int] = {}
    for m in _affected(tables):
        out.update(_refresh(conn, m, truncate))
    return out


def stale(conn: sa.engine.Connection) -> list[str]:
    """The measures whose tables do not follow the last load of their inputs."""
    done: dict[str, int] = {str(name): int(n) for name, n in conn.execute(
        sa.select(derivations.c.name, derivations.c.loads_id))}
    return [m.name for m in MEASURES if done.get(m.name) != _last_load(conn, m)]


def ensure(conn: sa.engine.Connection) -> dict[str, int]:
    """Refresh the measures :func:`stale` names (nothing when all follow the loads)."""
    out: dict[str, int] = {}
    for name in stale(conn):
        out.update(_refresh(conn, measure(name), truncate=False))
    return out
