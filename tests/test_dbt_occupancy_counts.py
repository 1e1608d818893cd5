"""rpt_kennel_occupancy_daily kept night after night by adding up the history's changes
(dbt_project/macros/boarding/occupancy.sql), against a count of every night made here.

One source at scale 0.01, extracted and built once for the module (occupancy and what it
reads). Each test then changes the source the way a day of the app does, or by hand where
the generator never goes (a stay longer than any before, a suite type no resource has, a
resource taken out of service, a stay purged), builds with the next run date, and compares
the whole table to `expected_rows`, which expands every stay into its nights: another way
of counting than either of the model's.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from nightly_builds import build, compiled_code, day_of_traffic, fetch, next_night, small_warehouse

from pipelines.lib.dbt import DbtError

REFERENCE_DATE = dt.date(2026, 6, 30)
TABLE = "reporting.rpt_kennel_occupancy_daily"
LOG = "marts.fct_reservation_history__changes"
WATERMARK = "watermark_fct_reservation_history__changes"


@pytest.fixture(scope="module")
def warehouse(make_database, tmp_path_factory):
    return small_warehouse(make_database, tmp_path_factory, "occ", 11, REFERENCE_DATE, "+rpt_kennel_occupancy_daily")


def table_rows(url: str) -> set[tuple]:
    return set(fetch(url, f"select tenant_id, suite_type, date, capacity, occupied from {TABLE}"))


def expected_rows(url: str, run_date: dt.date) -> set[tuple]:
    """Every stay expanded into its nights and counted, with today's capacity: every suite
    type with capacity on every day of the window, others on every day while a stay of
    theirs is in it."""
    return set(
        fetch(
            url,
            """
            with window_days as (
                select day::date as date
                from generate_series(%(d)s::date - interval '1 year', %(d)s::date + interval '90 days', '1 day') as day
            ),
            nights as (
                select stays.tenant_id, stays.suite_type, night::date as date
                from marts.fct_reservation_history as stays
                cross join generate_series(stays.start_date, stays.end_date - 1, '1 day') as night
                where stays.is_occupying and night::date in (select date from window_days)
            ),
            capacity as (
                select tenant_id, suite_type, sum(capacity) as capacity
                from marts.dim_resources where is_bookable group by 1, 2
            ),
            suite_types as (
                select tenant_id, suite_type from capacity
                union
                select tenant_id, suite_type from nights
            )
            select suite_types.tenant_id, suite_types.suite_type, window_days.date,
                coalesce(capacity.capacity, 0)::bigint,
                (select count(*) from nights
                 where nights.tenant_id = suite_types.tenant_id and nights.suite_type = suite_types.suite_type
                 and nights.date = window_days.date)
            from suite_types
            cross join window_days
            left join capacity using (tenant_id, suite_type)
            """,
            {"d": run_date},
        )
    )


def recorded(url: str) -> dict[str, str]:
    (comment,) = fetch(url, f"select obj_description('{TABLE}'::regclass)")[0]
    return dict(part.split("=", 1) for part in comment.removeprefix("kennelworks log reader: ").split("; "))


def counted_from_the_log(state) -> bool:
    """Whether the last build added up the log's changes (else it counted every night)."""
    return LOG.split(".")[1] in compiled_code(state, "rpt_kennel_occupancy_daily")


def assert_counts_exact(state) -> None:
    actual, expected = table_rows(state["url"]), expected_rows(state["url"], state["run_date"])
    assert actual == expected, (sorted(actual - expected)[:5], sorted(expected - actual)[:5])
    assert recorded(state["url"])["run_date"] == state["run_date"].isoformat()


def a_stay(conn, where: str) -> tuple:
    """(id, tenant_id) of one occupying stay in raw matching `where`."""
    return conn.execute(
        "select id, tenant_id from raw.reservations "
        f"where deleted_at is null and status not in ('cancelled', 'no_show') and {where} order by id limit 1"
    ).fetchone()


def test_the_first_build_counts_every_night(warehouse):
    assert not counted_from_the_log(warehouse)
    assert_counts_exact(warehouse)
    assert int(recorded(warehouse["url"])["max_nights"]) > 0


def test_nights_of_app_traffic_are_added_up_from_the_history_s_log(warehouse):
    for _ in range(2):
        day_of_traffic(warehouse)  # bookings, reschedules, cancellations, purges
        before = recorded(warehouse["url"])[WATERMARK]
        next_night(warehouse)
        assert counted_from_the_log(warehouse)
        assert recorded(warehouse["url"])[WATERMARK] > before
        assert_counts_exact(warehouse)


def test_changes_the_generator_never_makes_are_counted_exactly(warehouse):
    url = warehouse["url"]
    day = warehouse["run_date"] + dt.timedelta(days=1)
    with psycopg.connect(url) as conn:
        longest = int(recorded(url)["max_nights"])
        # a stay longer than any before, reaching past the window's new last day
        long_id, _ = a_stay(conn, f"start_date > '{day}'::date + 30")
        conn.execute(
            "update raw.reservations set start_date = %s, end_date = %s, _extracted_at = now() where id = %s",
            (day + dt.timedelta(days=60), day + dt.timedelta(days=61 + longest + 30), long_id),
        )
        # a stay moved a month later (its old nights must be counted out)
        moved_id, _ = a_stay(
            conn, f"start_date between '{day}'::date - 20 and '{day}'::date + 20 and id <> '{long_id}'"
        )
        conn.execute(
            "update raw.reservations set start_date = start_date + 31, end_date = end_date + 31, "
            "_extracted_at = now() where id = %s",
            (moved_id,),
        )
        # a stay of a suite type no resource has: a suite type the tenant's table lacks
        unmatched_id, tenant_id = a_stay(conn, f"start_date > '{day}'::date and id not in ('{long_id}', '{moved_id}')")
        conn.execute(
            "update raw.reservations set resource_id = null, requested_suite_type = 'hammock', "
            "_extracted_at = now() where id = %s",
            (unmatched_id,),
        )
        # a resource taken out of service: its suite type's capacity drops on every day
        conn.execute(
            "update raw.resources set is_active = false, _extracted_at = now() "
            "where id = (select id from raw.resources where is_active and deleted_at is null order by id limit 1)"
        )
        # a stay purged from the source
        purged_id, _ = a_stay(conn, f"start_date between '{day}'::date - 5 and '{day}'::date + 5 "
                                    f"and id not in ('{long_id}', '{moved_id}', '{unmatched_id}')")  # fmt: skip
        conn.execute("update raw.reservations set _deleted_in_source_at = now() where id = %s", (purged_id,))
    next_night(warehouse)
    assert counted_from_the_log(warehouse)
    assert_counts_exact(warehouse)
    assert int(recorded(url)["max_nights"]) >= longest + 30
    unmatched = fetch(
        url, f"select count(*) from {TABLE} where tenant_id = %s and suite_type = 'unmatched'", (tenant_id,)
    )
    assert unmatched[0][0] > 0

    # the tenant's unmatched stays cancelled: their suite type leaves the table, as in a full count
    with psycopg.connect(url) as conn:
        conn.execute(
            "update raw.reservations set status = 'cancelled', _extracted_at = now() where id in (select"
            " reservation_id from marts.fct_reservation_history where tenant_id = %s and suite_type = 'unmatched')",
            (tenant_id,),
        )
    next_night(warehouse)
    assert counted_from_the_log(warehouse)
    assert_counts_exact(warehouse)
    assert fetch(
        url, f"select count(*) from {TABLE} where tenant_id = %s and suite_type = 'unmatched'", (tenant_id,)
    ) == [(0,)]


def test_an_earlier_run_date_counts_every_night(warehouse):
    build(warehouse, warehouse["run_date"] - dt.timedelta(days=3))
    assert not counted_from_the_log(warehouse)
    assert_counts_exact(warehouse)
    next_night(warehouse)
    assert counted_from_the_log(warehouse)
    assert_counts_exact(warehouse)


def test_a_full_build_of_the_history_empties_its_log_and_the_next_build_counts_every_night(warehouse):
    build(warehouse, warehouse["run_date"], select="fct_reservation_history", full_refresh=True)
    next_night(warehouse)
    assert not counted_from_the_log(warehouse)
    assert_counts_exact(warehouse)


def test_counts_recorded_by_other_sql_are_counted_again(warehouse):
    """The record names the SQL the counts come from: counts of an older version of the model
    are not started from (a deploy of new counting rules counts every night once)."""
    url = warehouse["url"]
    with psycopg.connect(url) as conn:
        (comment,) = conn.execute(f"select obj_description('{TABLE}'::regclass)").fetchone()
        older = comment.replace(f"code={recorded(url)['code']}", "code=0123456789abcdef")
        conn.execute(f"comment on table {TABLE} is '{older}'")
    next_night(warehouse)
    assert not counted_from_the_log(warehouse)
    assert_counts_exact(warehouse)
    next_night(warehouse)
    assert counted_from_the_log(warehouse)


def test_a_failed_build_leaves_the_counts_and_their_record_as_they_were(warehouse):
    url = warehouse["url"]
    before_rows, before_record = table_rows(url), recorded(url)
    with psycopg.connect(url) as conn:
        conn.execute(f"drop table {LOG}")
    with pytest.raises(DbtError, match="fct_reservation_history__changes"):
        build(warehouse, warehouse["run_date"] + dt.timedelta(days=1), select="rpt_kennel_occupancy_daily")
    assert table_rows(url) == before_rows
    assert recorded(url) == before_record
    # the history's next build finds its log gone: it builds in full, and so does the count
    next_night(warehouse)
    assert not counted_from_the_log(warehouse)
    assert_counts_exact(warehouse)
