"""Leaderboards and stats reconciliation end to end: source rows -> load_all -> real dbt build.

Run date 2026-06-17 (a Wednesday): the week starts Monday 2026-06-15, the month 2026-06-01.
Customers 1 and 2 tie in every period on purpose; the lower id must win each time.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from dbt_finance_fixtures import customer, insert, tenant, uid

from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all, load_table
from pipelines.lib.extract.meta import LOCK_NAMESPACE
from pipelines.source.create import create_source_schema

RUN_DATE = "2026-06-17"
MODELS = ["+rpt_leaderboard_customers", "+rpt_leaderboard_teams", "+rpt_stats_reconciliation", "+quarantined_rows"]
WEEK, MONTH = dt.date(2026, 6, 15), dt.date(2026, 6, 1)

# team n -> (name, goal, deleted)
TEAMS = {
    1: ("Waggers", 100_000, False),
    2: ("Sniffers", 50_000, False),
    3: ("Gone", 1_000, True),
    4: ("Quiet", 9_000, False),
}

# activity n -> (tenant, customer n, team n or None, date, distance, deleted)
ACTIVITIES = {
    1: (1, 1, 1, "2026-06-16", 3_000, False),
    2: (1, 1, 1, "2026-06-02", 2_000, False),
    3: (1, 1, None, "2026-01-10", 5_000, False),
    4: (1, 2, 2, "2026-06-15", 3_000, False),
    5: (1, 2, 2, "2026-06-03", 2_000, False),
    6: (1, 2, None, "2025-12-01", 5_000, False),
    7: (1, 3, None, "2025-05-01", 12_000, False),
    8: (1, 1, 1, "2026-06-16", 99_999, True),  # soft-deleted activity
    9: (1, 4, None, "2026-06-16", 50_000, False),  # customer 4 is deleted
    10: (1, 2, 3, "2026-06-16", 7_777, False),  # team 3 is deleted
    11: (1, 6, None, "2026-06-16", 40_000, False),  # customer 6 lives in tenant 2
    12: (1, 99, None, "2026-06-16", 30_000, False),  # customer 99 does not exist
    13: (1, 7, None, "2026-06-10", 500, False),
}

QUARANTINED_ACTIVITIES = {
    uid(8, 9): "orphan: customer deleted",
    uid(8, 10): "orphan: team deleted",
    uid(8, 11): "cross_tenant: customer",
    uid(8, 12): "orphan: customer missing",
}

# customer n -> (stored distance, stored activity count); customer 7 has no stored row.
# The app counts every live activity it recorded, quarantined or not: customer 2's walk with
# the deleted team 3 is in its stored 16 777 m, and the reconciliation counts it the same way.
CUSTOMER_STATS = {1: (10_000, 3), 2: (16_777, 4), 3: (12_000, 1), 4: (50_000, 1), 5: (0, 0)}
# team n -> (stored distance, stored member count)
TEAM_PROGRESS = {1: (5_000, 1), 2: (4_000, 1), 4: (0, 2)}
# team member n -> (team n, customer n, left)
TEAM_MEMBERS = {1: (1, 1, False), 2: (2, 2, False), 3: (4, 3, False), 4: (4, 5, True)}


def seed_source(ops_url: str) -> None:
    create_source_schema(ops_url)
    with psycopg.connect(ops_url) as conn:
        insert(conn, "tenants", [tenant(1, "America/New_York"), tenant(2, "Europe/Berlin")])
        insert(
            conn,
            "customers",
            [
                customer(1, 1, "Ada", "Lovelace"),
                customer(2, 1, "Bob", "Builder"),
                customer(3, 1, "Cy", "Young"),
                customer(4, 1, "Del", "Eted", deleted=True),
                customer(5, 1, "Eve", "Idle"),
                customer(6, 2, "Fritz", "Berliner"),
                customer(7, 1, "Gus", "Newcomer"),
            ],
        )
        insert(
            conn,
            "teams",
            [
                {
                    "id": uid(7, n),
                    "tenant_id": uid(1, 1),
                    "name": name,
                    "goal_distance_m": goal,
                    "starts_on": "2026-01-01",
                    "deleted_at": "2026-02-01T00:00:00Z" if deleted else None,
                }
                for n, (name, goal, deleted) in TEAMS.items()
            ],
        )
        insert(
            conn,
            "team_members",
            [
                {
                    "id": uid(9, n),
                    "tenant_id": uid(1, 1),
                    "team_id": uid(7, team),
                    "customer_id": uid(2, c),
                    "role": "member",
                    "joined_at": "2026-01-02T00:00:00Z",
                    "left_at": "2026-03-01T00:00:00Z" if left else None,
                }
                for n, (team, c, left) in TEAM_MEMBERS.items()
            ],
        )
        insert(conn, "activities", [activity(n, *row) for n, row in ACTIVITIES.items()])
        insert(
            conn,
            "customer_stats",
            [
                {
                    "customer_id": uid(2, c),
                    "tenant_id": uid(1, 1),
                    "total_distance_m": distance,
                    "total_duration_s": count * 600,
                    "activity_count": count,
                }
                for c, (distance, count) in CUSTOMER_STATS.items()
            ],
        )
        insert(
            conn,
            "team_progress",
            [
                {"team_id": uid(7, team), "tenant_id": uid(1, 1), "total_distance_m": distance, "member_count": members}
                for team, (distance, members) in TEAM_PROGRESS.items()
            ],
        )


def activity(n: int, tenant_n: int, customer_n: int, team_n: int | None, date: str, distance: int, deleted: bool):
    return {
        "id": uid(8, n),
        "tenant_id": uid(1, tenant_n),
        "customer_id": uid(2, customer_n),
        "team_id": uid(7, team_n) if team_n else None,
        "activity_date": date,
        "distance_m": distance,
        "duration_s": 600,
        "deleted_at": "2026-06-16T20:00:00Z" if deleted else None,
    }


def build(warehouse_url: str, target, full_refresh: bool = False) -> None:
    """dbt build of MODELS; `cautious` runs only the tests whose every parent is built here
    (other concerns' tests on shared models such as dq.quarantined_rows are theirs to run)."""
    dbt_build(warehouse_url, MODELS, {"run_date": RUN_DATE}, full_refresh, target)


def fetch(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def leaderboard(url: str, relation: str, subject: str) -> dict[str, list[tuple]]:
    """period_type -> [(subject id, distance, rank)] ordered by rank."""
    rows = fetch(url, f"select period_type, {subject}, distance_m, rank from {relation} order by period_type, rank")
    boards: dict[str, list[tuple]] = {}
    for period_type, subject_id, distance, rank in rows:
        boards.setdefault(period_type, []).append((subject_id, distance, rank))
    return boards


def relation_oid(url: str, relation: str) -> int:
    return fetch(url, "select %s::regclass::oid", [relation])[0][0]


@pytest.fixture(scope="module")
def databases(make_database, tmp_path_factory):
    """Seeded source, extracted, one dbt build; yields (ops_url, warehouse_url, target_path)."""
    ops_url, warehouse_url = make_database("ops"), make_database("warehouse")
    seed_source(ops_url)
    load_all(ops_url, warehouse_url)
    target = tmp_path_factory.mktemp("dbt_target")
    build(warehouse_url, target)
    return ops_url, warehouse_url, target


@pytest.fixture(scope="module")
def first_build(databases):
    _, warehouse_url, _ = databases
    return {
        "customers": leaderboard(warehouse_url, "reporting.rpt_leaderboard_customers", "customer_id"),
        "teams": leaderboard(warehouse_url, "reporting.rpt_leaderboard_teams", "team_id"),
        "periods": dict(
            fetch(
                warehouse_url, "select period_type, period_start from reporting.rpt_leaderboard_customers group by 1, 2"
            )
        ),
        "names": dict(
            fetch(warehouse_url, "select distinct customer_id, display_name from reporting.rpt_leaderboard_customers")
        ),
        "oid": relation_oid(warehouse_url, "reporting.rpt_leaderboard_customers"),
    }


def test_customer_ties_rank_by_the_lower_id(first_build):
    boards = first_build["customers"]
    assert boards["week"] == [(uid(2, 1), 3_000, 1), (uid(2, 2), 3_000, 2)]  # 7 walked last week
    assert boards["month"] == [(uid(2, 1), 5_000, 1), (uid(2, 2), 5_000, 2), (uid(2, 7), 500, 3)]
    assert boards["all_time"] == [
        (uid(2, 3), 12_000, 1),
        (uid(2, 1), 10_000, 2),
        (uid(2, 2), 10_000, 3),
        (uid(2, 7), 500, 4),
    ]


def test_team_ties_rank_by_the_lower_id_and_deleted_teams_are_absent(first_build):
    boards = first_build["teams"]
    assert boards["week"] == [(uid(7, 1), 3_000, 1), (uid(7, 2), 3_000, 2)]
    assert boards["month"] == [(uid(7, 1), 5_000, 1), (uid(7, 2), 5_000, 2)]
    assert boards["all_time"] == [(uid(7, 1), 5_000, 1), (uid(7, 2), 5_000, 2)]


def test_periods_and_display_names(first_build):
    assert first_build["periods"] == {"week": WEEK, "month": MONTH, "all_time": None}
    # first name and initial only: no e-mail, no phone, no full last name
    assert first_build["names"][uid(2, 1)] == "Ada L."


def test_quarantined_activities_and_raw_equals_mart_plus_quarantine(databases):
    _, warehouse_url, _ = databases
    quarantined = dict(
        fetch(
            warehouse_url,
            "select record_key, reason from dq.quarantined_rows where source_table = 'activities'",
        )
    )
    assert quarantined == {str(key): reason for key, reason in QUARANTINED_ACTIVITIES.items()}
    raw = fetch(warehouse_url, "select count(*) from raw.activities")[0][0]
    mart = fetch(warehouse_url, "select count(*) from marts.fct_activities")[0][0]
    assert raw == mart + len(quarantined) == len(ACTIVITIES)


def test_stats_reconciliation_lists_exactly_the_drifted_entities(databases):
    _, warehouse_url, _ = databases
    rows = fetch(
        warehouse_url,
        "select entity, entity_id, stored_distance_m, recomputed_distance_m, drift_m, stored_count, recomputed_count "
        "from reporting.rpt_stats_reconciliation order by entity, entity_id",
    )
    assert rows == [
        ("customer", uid(2, 2), 16_777, 17_777, -1_000, 4, 4),
        ("customer", uid(2, 7), 0, 500, -500, 0, 1),  # activities but no stored row
        ("team", uid(7, 2), 4_000, 5_000, -1_000, 1, 1),
        ("team", uid(7, 4), 0, 0, 0, 2, 1),  # one member left: count drift only
    ]


@pytest.fixture(scope="module")
def second_build(databases, first_build):
    """A new walk of customer 3 this week, extracted and built again while an analyst holds a
    transaction open on the leaderboard: the refresh must not need to wait for the reader."""
    ops_url, warehouse_url, target = databases
    with psycopg.connect(ops_url) as conn:
        insert(conn, "activities", [activity(14, 1, 3, None, "2026-06-17", 4_000, False)])
    load_all(ops_url, warehouse_url)
    database = fetch(warehouse_url, "select current_database()")[0][0]
    with psycopg.connect(warehouse_url) as reader:
        reader.execute("select count(*) from reporting.rpt_leaderboard_customers").fetchone()
        # the reader's transaction stays open (holding AccessShareLock) for the whole build; a
        # plain REFRESH would wait for it and fail on the lock_timeout set for dbt's sessions
        with psycopg.connect(warehouse_url, autocommit=True) as admin:
            admin.execute(f"alter database \"{database}\" set lock_timeout = '20s'")
        try:
            build(warehouse_url, target)
        finally:
            with psycopg.connect(warehouse_url, autocommit=True) as admin:
                admin.execute(f'alter database "{database}" reset lock_timeout')
        reader.rollback()
    return warehouse_url


def test_leaderboard_is_refreshed_in_place_without_blocking_readers(second_build, first_build):
    warehouse_url = second_build
    assert relation_oid(warehouse_url, "reporting.rpt_leaderboard_customers") == first_build["oid"]
    boards = leaderboard(warehouse_url, "reporting.rpt_leaderboard_customers", "customer_id")
    assert boards["week"][0] == (uid(2, 3), 4_000, 1)
    assert boards["all_time"][0] == (uid(2, 3), 16_000, 1)


def test_a_deleted_customer_leaves_the_patched_activities_mart_as_a_full_build_would(databases, second_build):
    """Customer 1 and team 2 are soft-deleted in the app (neither activity row changes):
    fct_activities, patched by key, drops exactly the customer's activities and the team's
    (now quarantined, through the patched int_activities_quarantined), and the mart and the
    quarantine equal a --full-refresh build's."""
    ops_url, warehouse_url, target = databases
    with psycopg.connect(ops_url) as conn:
        conn.execute("update app.customers set deleted_at = now() where id = %s", [uid(2, 1)])
        conn.execute("update app.teams set deleted_at = now() where id = %s", [uid(7, 2)])
    load_all(ops_url, warehouse_url)
    build(warehouse_url, target)
    for relation in ("marts.fct_activities", "intermediate.int_activities_quarantined"):
        comment = fetch(warehouse_url, "select obj_description(%s::regclass, 'pg_class')", [relation])[0][0]
        assert "patched keys=" in comment, relation
    mart = fetch(warehouse_url, "select * from marts.fct_activities order by activity_id")
    customer_1 = {n for n, row in ACTIVITIES.items() if row[1] == 1 and not row[5]}  # live walks
    assert customer_1
    assert [row[0] for row in mart if row[2] == uid(2, 1)] == [uid(8, 8)]  # only the deleted walk, flagged
    quarantined = fetch(
        warehouse_url,
        "select record_key from dq.quarantined_rows where source_table = 'activities' and reason = %s",
        ["orphan: customer deleted"],
    )
    assert {key for (key,) in quarantined} >= {str(uid(8, n)) for n in customer_1}
    team_2 = {uid(8, n) for n, row in ACTIVITIES.items() if row[2] == 2}
    assert team_2 and not team_2 & {row[0] for row in mart}
    team_quarantined = fetch(
        warehouse_url,
        "select record_key from dq.quarantined_rows where source_table = 'activities' and reason = %s",
        ["orphan: team deleted"],
    )
    assert {key for (key,) in team_quarantined} >= {str(key) for key in team_2}
    raw = fetch(warehouse_url, "select count(*) from raw.activities")[0][0]
    in_quarantine = fetch(warehouse_url, "select count(*) from dq.quarantined_rows where source_table = 'activities'")
    assert raw == len(mart) + in_quarantine[0][0]
    quarantine = "select source_table, record_key, tenant_id, reason from dq.quarantined_rows order by 1, 2"
    patched_quarantine = fetch(warehouse_url, quarantine)

    build(warehouse_url, target, full_refresh=True)
    assert fetch(warehouse_url, "select * from marts.fct_activities order by activity_id") == mart
    assert fetch(warehouse_url, quarantine) == patched_quarantine


def test_the_watermark_does_not_move_while_a_load_is_in_flight(databases):
    """A load still running may commit rows older than what a build sees, so a build that
    overlaps one re-derives what it sees but keeps its watermark; the next one moves it."""
    ops_url, warehouse_url, target = databases
    comment = "select obj_description('marts.fct_activities'::regclass, 'pg_class')"
    before = fetch(warehouse_url, comment)[0][0]
    with psycopg.connect(ops_url) as conn:
        conn.execute("update app.activities set distance_m = 4_321 where id = %s", [uid(8, 13)])
    load_table(ops_url, warehouse_url, "activities")
    with psycopg.connect(warehouse_url) as load_in_flight:  # what load_table holds for its table
        load_in_flight.execute("select pg_advisory_xact_lock(hashtext(%s), hashtext('teams'))", [LOCK_NAMESPACE])
        build(warehouse_url, target)
        during = fetch(warehouse_url, comment)[0][0]
    distance = fetch(warehouse_url, "select distance_m from marts.fct_activities where activity_id = %s", [uid(8, 13)])
    assert distance == [(4_321,)]  # what the build saw is there
    assert watermark(during) == watermark(before)
    build(warehouse_url, target)
    later = watermark(fetch(warehouse_url, comment)[0][0])
    assert fetch(warehouse_url, "select %s::timestamptz > %s::timestamptz", [later, watermark(before)]) == [(True,)]


def watermark(comment: str) -> str:
    return comment.split("watermark=")[1].split(";")[0]


def test_the_reconciliation_re_derives_the_old_and_new_customer_of_a_moved_walk_as_a_full_build_would(databases):
    """Walk 13 passes from customer 7 to customer 3 in the app. The patch of fct_activities logs
    both customers, int_activity_totals re-derives just those two (customer 7 is left with no
    walk and no stored row, so drops out of the reconciliation; customer 3 now drifts by the
    walk), and the result equals a --full-refresh build's."""
    ops_url, warehouse_url, target = databases
    walk_13 = uid(8, 13)
    with psycopg.connect(ops_url) as conn:
        moved = "update app.activities set customer_id = %s, updated_at = now() where id = %s"
        conn.execute(moved, [uid(2, 3), walk_13])
    load_all(ops_url, warehouse_url)
    build(warehouse_url, target)

    totals_comment = fetch(warehouse_url, "select obj_description('intermediate.int_activity_totals'::regclass)")
    assert "patched keys=2;" in totals_comment[0][0]
    logged = fetch(warehouse_url, "select distinct customer_id from marts.fct_activities__changes")
    assert {uid(2, 3), uid(2, 7)} <= {customer_id for (customer_id,) in logged}
    reconciled = "select * from reporting.rpt_stats_reconciliation order by entity, entity_id"
    patched = fetch(warehouse_url, reconciled)
    by_customer = {row[2]: row for row in patched if row[1] == "customer"}
    assert uid(2, 7) not in by_customer
    walks_3 = fetch(
        warehouse_url,
        "select sum(distance_m), count(*) from raw.activities where customer_id = %s and deleted_at is null",
        [uid(2, 3)],
    )[0]
    assert (by_customer[uid(2, 3)][4], by_customer[uid(2, 3)][7]) == (walks_3[0], walks_3[1])
    totals = "select * from intermediate.int_activity_totals order by customer_id, team_id"
    patched_totals = fetch(warehouse_url, totals)

    build(warehouse_url, target, full_refresh=True)
    assert fetch(warehouse_url, totals) == patched_totals
    assert fetch(warehouse_url, reconciled) == patched


def test_walks_dated_after_the_run_date_are_in_no_leaderboard_period(databases):
    """The leaderboards end with the run date (a rerun for a past date is reproducible), while
    int_activity_totals, which all_time is summed from, holds every walk: the walks dated after
    the run date are taken off again. Customer 5's only walk and a later walk of customer 3 in
    team 1 leave both boards as they were."""
    ops_url, warehouse_url, target = databases
    board = "select period_type, {0}_id, distance_m, rank from reporting.rpt_leaderboard_{0}s order by 1, 2"
    customers, teams = board.format("customer"), board.format("team")
    before = fetch(warehouse_url, customers), fetch(warehouse_url, teams)
    with psycopg.connect(ops_url) as conn:
        customer_5_only_walk = activity(15, 1, 5, None, "2026-06-25", 9_000, False)
        insert(conn, "activities", [customer_5_only_walk, activity(16, 1, 3, 1, "2026-06-18", 1_000, False)])
    load_all(ops_url, warehouse_url)
    build(warehouse_url, target)
    totals = "select sum(distance_m) from intermediate.int_activity_totals where customer_id = %s"
    assert fetch(warehouse_url, totals, [uid(2, 5)]) == [(9_000,)]
    assert (fetch(warehouse_url, customers), fetch(warehouse_url, teams)) == before


def test_a_full_build_of_the_activities_makes_their_totals_read_them_in_full(databases):
    """A full build of fct_activities empties its change log, which then holds no change from
    before it: int_activity_totals, patched from that log, must read the activities in full."""
    _, warehouse_url, target = databases
    dbt_build(warehouse_url, ["fct_activities"], {"run_date": RUN_DATE}, True, target)
    log_comment = fetch(warehouse_url, "select obj_description('marts.fct_activities__changes'::regclass)")[0][0]
    assert "since=" in log_comment
    assert fetch(warehouse_url, "select count(*) from marts.fct_activities__changes") == [(0,)]
    dbt_build(warehouse_url, ["int_activity_totals"], {"run_date": RUN_DATE}, False, target)
    totals_comment = fetch(warehouse_url, "select obj_description('intermediate.int_activity_totals'::regclass)")
    assert "full build" in totals_comment[0][0]
