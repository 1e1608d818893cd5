"""rpt_stats_reconciliation compares again only the customers whose figures can have changed
(dbt_project/macros/engagement/reconciliation_changes.sql): after each kind of change, the
table a nightly build leaves equals the one a full rebuild computes from scratch.

One source at scale 0.01, extracted and built once for the module (the reconciliation and
what it reads). Each test changes raw the way a load would (rows stamped as just extracted),
builds with the next run date, and compares the table with its --full-refresh rebuild.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from nightly_builds import build, compiled_code, day_of_traffic, fetch, next_night, rows_of, small_warehouse

REFERENCE_DATE = dt.date(2026, 6, 23)
TABLE = "reporting.rpt_stats_reconciliation"


@pytest.fixture(scope="module")
def warehouse(make_database, tmp_path_factory):
    return small_warehouse(make_database, tmp_path_factory, "rc", 7, REFERENCE_DATE, "+rpt_stats_reconciliation")


def listed(url: str, customer_id) -> tuple | None:
    """(stored, recomputed) distance of a customer's row, None when it is not listed."""
    found = fetch(
        url,
        f"select stored_distance_m, recomputed_distance_m from {TABLE} where entity = 'customer' and entity_id = %s",
        (customer_id,),
    )
    return found[0] if found else None


def only_changed_customers(state) -> bool:
    """Whether the last build compared only the changed customers (else every customer)."""
    return "changed_customers" in compiled_code(state, "rpt_stats_reconciliation")


def assert_equals_a_full_rebuild(state) -> None:
    nightly = rows_of(state["url"], TABLE)
    build(state, state["run_date"], select="rpt_stats_reconciliation", full_refresh=True)
    rebuilt = rows_of(state["url"], TABLE)
    assert nightly == rebuilt, (sorted(nightly - rebuilt)[:3], sorted(rebuilt - nightly)[:3])


def stamped(url: str, sql: str, *params) -> None:
    """An update of raw, its rows stamped as just extracted."""
    with psycopg.connect(url) as conn:
        conn.execute(sql.replace(" where ", ", _extracted_at = now() where ", 1), params)


def test_a_night_of_traffic_compares_only_the_changed_customers(warehouse):
    day_of_traffic(warehouse)
    next_night(warehouse)
    assert only_changed_customers(warehouse)
    assert_equals_a_full_rebuild(warehouse)


def test_a_quarantined_walk_edited_and_moved_reaches_both_customers(warehouse):
    """The walk leaves the clean totals (its pet vanished), then changes while quarantined,
    then moves to another customer: only the quarantined activities' log names them."""
    url = warehouse["url"]
    ((walk, first, tenant_id, distance),) = fetch(
        url,
        "select a.id, a.customer_id, a.tenant_id, a.distance_m from raw.activities as a "
        "join intermediate.int_customers_checked as c on c.customer_id = a.customer_id "
        "where a.deleted_at is null and a.distance_m is not null and c.quarantine_reason is null and not c.is_deleted "
        "and a.id in (select activity_id from marts.fct_activities) order by a.id limit 1",
    )
    ((second,),) = fetch(
        url,
        "select customer_id from intermediate.int_customers_checked where tenant_id = %s "
        "and quarantine_reason is null and not is_deleted and customer_id <> %s order by customer_id limit 1",
        (tenant_id, first),
    )
    stored_first = listed(url, first)
    stamped(
        url, "update raw.activities set pet_id = gen_random_uuid(), distance_m = distance_m + 1000 where id = %s", walk
    )
    next_night(warehouse)
    assert only_changed_customers(warehouse)
    assert fetch(
        url, "select count(*) from intermediate.int_activities_quarantined where activity_id = %s", (walk,)
    ) == [(1,)]
    stored, recomputed = listed(url, first)
    assert recomputed - stored == 1000 + (stored_first[1] - stored_first[0] if stored_first else 0)
    assert_equals_a_full_rebuild(warehouse)

    stamped(url, "update raw.activities set distance_m = distance_m + 500 where id = %s", walk)
    next_night(warehouse)
    assert only_changed_customers(warehouse)
    stored, recomputed_after = listed(url, first)
    assert recomputed_after == recomputed + 500
    assert_equals_a_full_rebuild(warehouse)

    before_second = listed(url, second)
    stamped(url, "update raw.activities set customer_id = %s where id = %s", second, walk)
    next_night(warehouse)
    assert only_changed_customers(warehouse)
    # the first customer no longer counts it (and is listed only while it drifts), the second does
    expected_first = recomputed_after - distance - 1500
    assert listed(url, first) == (None if expected_first == stored else (stored, expected_first))
    stored_second, recomputed_second = listed(url, second)
    assert recomputed_second == (before_second[1] if before_second else stored_second) + distance + 1500
    assert_equals_a_full_rebuild(warehouse)


def test_stored_stats_changed_and_a_customer_deleted_are_compared_again(warehouse):
    url = warehouse["url"]
    ((customer,),) = fetch(
        url,
        "select customer_id from intermediate.int_customer_stats_checked "
        "where quarantine_reason is null and not is_deleted and total_distance_m > 0 order by customer_id limit 1",
    )
    stored, recomputed = listed(url, customer) or (0, 0)  # not listed: the two agree
    stamped(
        url, "update raw.customer_stats set total_distance_m = total_distance_m + 7 where customer_id = %s", customer
    )
    next_night(warehouse)
    assert only_changed_customers(warehouse)
    stored_after, recomputed_after = listed(url, customer)
    assert stored_after - recomputed_after == stored - recomputed + 7
    assert_equals_a_full_rebuild(warehouse)

    stamped(url, "update raw.customers set deleted_at = now() where id = %s", customer)
    next_night(warehouse)
    assert only_changed_customers(warehouse)
    assert listed(url, customer) is None  # only clean, live customers are reconciled
    assert_equals_a_full_rebuild(warehouse)


def test_a_full_build_of_a_logged_model_makes_the_next_build_compare_everyone(warehouse):
    build(warehouse, warehouse["run_date"], select="int_activity_totals", full_refresh=True)
    next_night(warehouse)
    assert not only_changed_customers(warehouse)
    assert_equals_a_full_rebuild(warehouse)
