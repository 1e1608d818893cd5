"""int_leaderboard_customer_distances re-derives only the customers whose rows can have
changed (dbt_project/macros/engagement/leaderboard_changes.sql): after each kind of change,
the table a nightly build leaves equals the one a full rebuild computes from scratch.

One source at scale 0.01, extracted and built once for the module (the leaderboards and what
they read). Each test changes raw the way a load would (rows stamped as just extracted),
builds with the next run date, and compares the table with its --full-refresh rebuild.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from nightly_builds import build, compiled_code, day_of_traffic, fetch, next_night, rows_of, small_warehouse

REFERENCE_DATE = dt.date(2026, 6, 23)  # a Tuesday: the next nights stay in the same week and month
TABLE = "intermediate.int_leaderboard_customer_distances"


@pytest.fixture(scope="module")
def warehouse(make_database, tmp_path_factory):
    return small_warehouse(make_database, tmp_path_factory, "lb", 5, REFERENCE_DATE, "+rpt_leaderboard_customers")


def only_changed_customers(state) -> bool:
    """Whether the last build re-derived only the changed customers (else every customer)."""
    return "changed_customers" in compiled_code(state, "int_leaderboard_customer_distances")


def assert_equals_a_full_rebuild(state) -> None:
    """The table and the leaderboard on it, then both rebuilt from scratch: nothing differs."""
    url = state["url"]
    nightly, board = rows_of(url, TABLE), rows_of(url, "reporting.rpt_leaderboard_customers")
    build(
        state,
        state["run_date"],
        select="int_leaderboard_customer_distances rpt_leaderboard_customers",
        full_refresh=True,
    )
    rebuilt = rows_of(url, TABLE)
    assert nightly == rebuilt, (sorted(nightly - rebuilt)[:3], sorted(rebuilt - nightly)[:3])
    assert board == rows_of(url, "reporting.rpt_leaderboard_customers")


def test_a_night_of_walks_rederives_only_their_customers(warehouse):
    day_of_traffic(warehouse)
    next_night(warehouse)
    assert only_changed_customers(warehouse)
    assert_equals_a_full_rebuild(warehouse)


def test_walks_moved_deleted_renamed_and_dated_ahead_are_all_counted(warehouse):
    url = warehouse["url"]
    day = warehouse["run_date"] + dt.timedelta(days=1)
    with psycopg.connect(url) as conn:
        walks = conn.execute(
            "select id, customer_id, tenant_id from raw.activities where deleted_at is null and activity_date >= %s "
            "order by id limit 3",
            (warehouse["run_date"] - dt.timedelta(days=6),),
        ).fetchall()
        (moved, _, tenant_id), (deleted, _, _), (ahead, _, _) = walks
        # a walk moved to another customer of its tenant: both customers' rows change
        conn.execute(
            "update raw.activities set customer_id = (select id from raw.customers where tenant_id = %s "
            " and deleted_at is null and id <> raw.activities.customer_id order by id limit 1), pet_id = null, "
            " _extracted_at = now() where id = %s",
            (tenant_id, moved),
        )
        conn.execute("update raw.activities set deleted_at = now(), _extracted_at = now() where id = %s", (deleted,))
        # dated the day after the next run date: it counts from the night after
        conn.execute(
            "update raw.activities set activity_date = %s, _extracted_at = now() where id = %s",
            (day + dt.timedelta(days=1), ahead),
        )
        # a customer renamed: display_name follows
        conn.execute(
            "update raw.customers set first_name = 'Renamed', _extracted_at = now() "
            "where id = (select min(customer_id::text)::uuid from intermediate.int_leaderboard_customer_distances)"
        )
    next_night(warehouse)
    assert only_changed_customers(warehouse)
    assert fetch(url, f"select count(*) from {TABLE} where display_name like 'Renamed %%'")[0][0] > 0
    assert_equals_a_full_rebuild(warehouse)
    next_night(warehouse)  # the walk dated ahead now counts
    assert only_changed_customers(warehouse)
    assert_equals_a_full_rebuild(warehouse)


def test_a_new_week_or_an_earlier_run_date_recomputes_every_customer(warehouse):
    monday = warehouse["run_date"] + dt.timedelta(days=7 - warehouse["run_date"].weekday())
    build(warehouse, monday)
    assert not only_changed_customers(warehouse)
    assert_equals_a_full_rebuild(warehouse)
    build(warehouse, monday - dt.timedelta(days=2))
    assert not only_changed_customers(warehouse)
    assert_equals_a_full_rebuild(warehouse)
