"""The cohort statistics from the derived tables equal those of the source rows.

``reference_grids`` is the query the cohort operation ran over the source tables before it read
the derived ones (:mod:`ckanext.sanyi.delivery.datadomain.derive`): distinct persons per (age
band, sex), age on ``date_from``. Over the small generated domain, every cell of both grids and
of the published answer agrees for several drugs, windows and groupings; persons added in a
test's own transaction (rolled back) cover what the generator never makes: an identity number
held by several persons, birthdays on the first day of the window's month, unknown sex, a
prescription of no insured person. The derived tables follow a generation and a load.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from ckanext.sanyi.delivery.datadomain import derive, generate, store
from ckanext.sanyi.delivery.datadomain.tables import table
from ckanext.sanyi.delivery.operations import cohort, engine
from ckanext.sanyi.domain import op_inputs

PERSONS, PRESCRIPTIONS, EVENTS = table("persons"), table("prescriptions"), \
    table("adverse_events")
_DRUG = sa.bindparam("drug", type_=sa.UnicodeText)
_FROM, _TO = sa.bindparam("date_from", type_=sa.Date), sa.bindparam("date_to", type_=sa.Date)
_AGE = sa.extract("year", sa.func.age(_FROM, PERSONS.c.birth_date))  # age on date_from
_BAND = sa.case(*((_AGE < upper, label) for label, upper in cohort.AGE_BANDS
                  if upper is not None), else_=cohort.AGE_BANDS[-1][0]).label("band")


def _persons_per_cell(ids: Any) -> Any:
    return (sa.select(_BAND, PERSONS.c.sex, sa.func.count(sa.distinct(ids.c.id_number)))
            .select_from(ids.join(PERSONS, PERSONS.c.id_number == ids.c.id_number))
            .where(PERSONS.c.sex.in_([code for code, _ in cohort.SEXES]),
                   PERSONS.c.birth_date.is_not(None))
            .group_by(_BAND, PERSONS.c.sex))


_USERS = _persons_per_cell(
    sa.select(PRESCRIPTIONS.c.id_number)
    .where(PRESCRIPTIONS.c.drug_name == _DRUG, PRESCRIPTIONS.c.prescribed_on >= _FROM,
           PRESCRIPTIONS.c.prescribed_on <= _TO).distinct().subquery("users"))
_EVENTS = _persons_per_cell(
    sa.select(EVENTS.c.id_number)
    .where(EVENTS.c.drug_name == _DRUG, EVENTS.c.onset_date >= _FROM,
           EVENTS.c.onset_date <= _TO).distinct().subquery("events"))


def reference_grids(conn, inp):
    """The users and adverse-events grids counted over the source tables."""
    params = {"drug": inp.drug, "date_from": inp.date_from, "date_to": inp.date_to}
    out = []
    for statement in (_USERS, _EVENTS):
        counts = {(str(b), str(sx)): int(n) for b, sx, n in conn.execute(statement, params)}
        out.append([[counts.get((band, code), 0) for code, _ in cohort.SEXES]
                    for band, _ in cohort.AGE_BANDS])
    return out[0], out[1]


def _window(first: str, months: int) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(first)
    y, m = divmod(start.month - 1 + months, 12)
    return start, dt.date(start.year + y, m + 1, 1) - dt.timedelta(days=1)


DRUGS = ("苯磺酸氨氯地平片", "盐酸二甲双胍片", "阿莫西林胶囊", "布洛芬缓释胶囊", "甘精胰岛素注射液",
         "不存在的药")
WINDOWS = [_window("2025-01-01", 12), _window("2024-07-01", 12), _window("2026-11-01", 1),
           _window("2023-12-01", 1), _window("2024-02-01", 3), _window("2021-12-01", 60),
           _window("2019-01-01", 12), _window("2027-01-01", 2)]
GROUPINGS = [(), ("age_band",), ("sex",), ("age_band", "sex")]


def _answer(conn, drug, window, group_by):
    return engine.run("cohort-statistics", {
        "drug": drug, "date_from": window[0].isoformat(), "date_to": window[1].isoformat(),
        "group_by": list(group_by)}, conn=conn, today=dt.date(2026, 12, 1)).result


def _same(conn, drug, window) -> None:
    inp = op_inputs.CohortInput(drug, *window)
    assert cohort.grid_counts(conn, inp) == reference_grids(conn, inp), (drug, window)


def _published(conn, drug, window, group_by) -> list[dict[str, Any]]:
    users, events = reference_grids(conn, op_inputs.CohortInput(drug, *window, group_by))
    return cohort.publish(users, events, group_by)[1]


@pytest.mark.parametrize("drug", DRUGS)
def test_every_cell_equals_the_source_count(small_domain, drug):
    with small_domain.connect() as conn:
        for window in WINDOWS:
            _same(conn, drug, window)


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_published_answers_equal_those_of_the_source_count(small_domain, group_by):
    with small_domain.connect() as conn:
        for drug in DRUGS[:3]:
            for window in WINDOWS[:3]:
                got = _answer(conn, drug, window, group_by)["cells"]
                assert got == _published(conn, drug, window, group_by), (drug, window)


def test_the_grids_are_not_all_empty(small_domain):
    """The comparisons above compare something: users of several cells, adverse events."""
    with small_domain.connect() as conn:
        users, _ = cohort.grid_counts(conn, op_inputs.CohortInput(DRUGS[0], *WINDOWS[0]))
        assert sum(1 for row in users for n in row if n) >= 6
        events = sum(sum(map(sum, cohort.grid_counts(conn, op_inputs.CohortInput(d, *w))[1]))
                     for d in DRUGS for w in WINDOWS[:2])
    assert events > 0


def _add_person(conn, n: int, id_number: str, sex: str | None, born: dt.date | None) -> None:
    conn.execute(PERSONS.insert().values(
        person_no=f"PTEST{n:04d}", id_number=id_number, name="测试", sex=sex,
        birth_date=born, insurance_type="310", region_code="420802"))


def _prescribe(conn, n: int, id_number: str, drug: str, day: dt.date,
               table_=PRESCRIPTIONS) -> None:
    if table_ is EVENTS:
        conn.execute(EVENTS.insert().values(
            report_id=f"ADRTEST{n:04d}", person_no="PTEST", id_number=id_number, drug_name=drug,
            onset_date=day, reaction_name="皮疹", severity="一般"))
        return
    conn.execute(PRESCRIPTIONS.insert().values(
        prescription_id=f"RXTEST{n:04d}", person_no="PTEST", id_number=id_number,
        institution_code="H42080200002", institution_name="市第二人民医院", prescribed_on=day,
        drug_code="X", drug_name=drug, days=7))


def test_persons_the_generator_never_makes(small_domain):
    """In the test's transaction (rolled back): shared identity numbers, birthdays on the
    window's first day (age band boundaries), unknown sex, a leap-day birth."""
    drug = "测试药品甲"
    people = [
        # the same number as two persons of different sex, both in the 18-44 band
        ("T0000000000000001", "1", dt.date(1990, 5, 3)), ("T0000000000000001", "2",
                                                           dt.date(1991, 7, 9)),
        # the same number with two birth dates of the same band and sex: counted once
        ("T0000000000000002", "1", dt.date(1980, 1, 1)), ("T0000000000000002", "1",
                                                           dt.date(1985, 3, 2)),
        # the same number twice with the same facts: one person
        ("T0000000000000003", "2", dt.date(1970, 2, 2)), ("T0000000000000003", "2",
                                                           dt.date(1970, 2, 2)),
        # 18 on the window's first day, and one day short of 18
        ("T0000000000000004", "1", dt.date(2008, 2, 1)), ("T0000000000000005", "1",
                                                           dt.date(2008, 2, 2)),
        # 45, 60 and 75 on the first day, and one day short
        ("T0000000000000006", "2", dt.date(1981, 2, 1)), ("T0000000000000007", "2",
                                                           dt.date(1981, 2, 2)),
        ("T0000000000000008", "1", dt.date(1966, 2, 1)), ("T0000000000000009", "1",
                                                           dt.date(1966, 2, 2)),
        ("T0000000000000010", "2", dt.date(1951, 2, 1)), ("T0000000000000011", "2",
                                                           dt.date(1951, 1, 31)),
        # a leap-day birth, born after the window starts, unknown sex
        ("T0000000000000012", "1", dt.date(2008, 2, 29)), ("T0000000000000013", "2",
                                                           dt.date(2026, 3, 4)),
        ("T0000000000000014", "9", dt.date(1960, 1, 1)),
        # shared between a known person and one of unknown sex: one known person
        ("T0000000000000016", "1", dt.date(1975, 6, 6)), ("T0000000000000016", "0",
                                                           dt.date(1975, 6, 6)),
    ]
    with small_domain.connect() as conn:
        for n, (number, sex, born) in enumerate(people):
            _add_person(conn, n, number, sex, born)
        numbers = sorted({p[0] for p in people}) + ["T0000000000000099"]  # not a person
        days = [dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 2, 28),
                dt.date(2026, 3, 15), dt.date(2026, 4, 30), dt.date(2026, 5, 1)]
        k = 0
        for i, number in enumerate(numbers):
            for j, day in enumerate(days):
                if (i + j) % 3 == 0 or i % 5 == j % 5:
                    _prescribe(conn, k, number, drug, day)
                    if (i + j) % 4 == 0:
                        _prescribe(conn, k, number, drug, day, EVENTS)
                    k += 1
        derive.refresh(conn)
        assert conn.execute(sa.select(sa.func.count()).select_from(
            derive.measure("drug_use").persons).where(
            derive.measure("drug_use").persons.c.shared)).scalar() > 0
        for months in (1, 2, 3, 4):
            for first in ("2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"):
                window = _window(first, months)
                _same(conn, drug, window)
                for group_by in GROUPINGS:
                    assert _answer(conn, drug, window, group_by)["cells"] == \
                        _published(conn, drug, window, group_by)
        users, _ = cohort.grid_counts(conn, op_inputs.CohortInput(drug, *_window(
            "2026-02-01", 3)))
        assert sum(map(sum, users)) >= 12
        for drug_, window in ((DRUGS[0], WINDOWS[0]), (DRUGS[2], WINDOWS[1])):
            _same(conn, drug_, window)   # the other drugs are derived as before


def test_a_window_is_whole_months(small_domain):
    with small_domain.connect() as conn, pytest.raises(ValueError):
        cohort.grid_counts(conn, op_inputs.CohortInput(DRUGS[0], dt.date(2025, 1, 2),
                                                       dt.date(2025, 12, 31)))


def test_the_derived_tables_follow_the_generation(small_domain):
    with small_domain.connect() as conn:
        assert derive.stale(conn) == []
        done = dict(conn.execute(sa.select(derive.derivations.c.name,
                                           derive.derivations.c.rows)).all())
        for m in derive.MEASURES:
            n = conn.execute(sa.select(sa.func.count()).select_from(m.persons)).scalar()
            assert done[m.name] == n and n > 0
            t = table(m.source)
            pairs = (sa.select(t.c.drug_name, t.c.id_number)
                     .join(PERSONS, PERSONS.c.id_number == t.c.id_number)
                     .where(PERSONS.c.sex.in_(derive.SEX_CODES),
                            PERSONS.c.birth_date.is_not(None)).distinct().subquery())
            # one row per drug and person (no identity number is shared here)
            assert n == conn.execute(sa.select(sa.func.count()).select_from(pairs)).scalar()
        origin = generate.current_origin(conn)
    assert origin == generate.origin(small_domain.persons, small_domain.seed,
                                     small_domain.today)


def test_derived_tables_are_rebuilt_when_stale(small_domain):
    """A load the derived tables do not follow makes them stale; :func:`derive.ensure`
    rebuilds them (in a transaction rolled back)."""
    from ckanext.sanyi.delivery.datadomain.tables import loads
    with small_domain.connect() as conn:
        conn.execute(loads.insert().values(
            source_table="adverse_events", resource="x", origin="test.csv", sha256="0" * 64,
            rows=0, loaded_by="test"))
        assert derive.stale(conn) == ["drug_reaction"]
        rows = derive.ensure(conn)
        assert set(rows) == {"drug_reaction", "drug_reaction_months"}
        assert derive.stale(conn) == []


def test_ensure_schema_changes_nothing_on_a_current_domain(small_domain):
    done = store.ensure_schema(small_domain.url)
    assert done == {"indexes_built": [], "indexes_dropped": [], "derived": {}}


@pytest.mark.usefixtures("with_plugins")
def test_a_load_rebuilds_the_derived_tables(load_catalog, tmp_path):
    from extract_files import PERSONS_HEADER, person, write_csv

    from ckanext.sanyi.delivery.datadomain import loader
    path = write_csv(tmp_path / "persons.csv", PERSONS_HEADER,
                     [person("P0001", "420802195803124021", "王秀兰")])
    report = loader.load_file("医保参保人员", path, user="yb_loader")
    assert report.load_id
    with store.connect() as conn:
        assert derive.stale(conn) == []
        stamps = dict(conn.execute(sa.select(derive.derivations.c.name,
                                             derive.derivations.c.loads_id)).all())
    assert stamps == {m.name: report.load_id for m in derive.MEASURES}
