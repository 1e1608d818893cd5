"""Boarding and customer models end to end: source rows -> load_all -> real dbt -> asserted outcomes.

Run date 2026-03-15. Tenant A has three bookable standard places (R1 capacity 1, R2 capacity
2), one standard_plus (R3), an inactive luxury resource (R4) and a deleted one (R5); tenant B
has one standard resource of capacity 5. Every expected figure below is a hand count over the
rows listed here, and the reschedule test checks which partitions the incremental build touched.
"""

from __future__ import annotations

import gc
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pipelines.defs.resources import PostgresResource
from pipelines.defs.transform.assets import DBT_EXECUTABLE
from pipelines.lib.dbt import (
    DBT_PROJECT_DIR,
    DBT_TARGET_PATH,
    PARSE_ONLY_URL,
    DbtError,
    dbt_args,
    dbt_build,
    dbt_command,
    dbt_env,
    prepare_manifest,
    run_dbt,
)
from pipelines.lib.extract import load_all
from pipelines.source.create import create_source_schema

RUN_DATE = "2026-03-15"
MODELS = [
    "+rpt_kennel_occupancy_daily",
    "+rpt_current_occupancy",
    "+rpt_unmatched_reservations",
    "+rpt_reservation_calendar",
    "+rpt_customers_with_pets",
    "+quarantined_rows",
]


def uid(kind: str, n: int) -> uuid.UUID:
    """Readable fixed ids: kind 'a'..'f' in the 4th group, n at the end."""
    return uuid.UUID(f"00000000-0000-0000-{kind * 4}-{n:012d}")


A, B = uid("a", 1), uid("a", 2)
R1, R2, R3, R4, R5, RB, R_ORPHAN = (uid("b", n) for n in (1, 2, 3, 4, 5, 6, 7))
C1, C2, C3, CB, C_ORPHAN = (uid("c", n) for n in (1, 2, 3, 4, 5))
P1, P2, P3, P4, P5, PB, P_CROSS, P_ORPHAN = (uid("d", n) for n in (1, 2, 3, 4, 5, 6, 7, 8))
SA, SB = uid("e", 1), uid("e", 2)


def res(n: int) -> uuid.UUID:
    return uid("f", n)


# reservation n -> (tenant, customer, pet, resource, requested label, status, start, end, deleted)
RESERVATIONS = {
    1: (A, C1, P1, R1, None, "confirmed", "2026-03-10", "2026-03-17", False),  # occupies the 15th
    2: (A, C1, P2, R2, None, "checked_in", "2026-03-14", "2026-03-16", False),  # occupies the 15th
    3: (A, C2, P4, R2, None, "cancelled", "2026-03-14", "2026-03-20", False),
    4: (A, C2, P4, None, "STD+ suite", "confirmed", "2026-03-15", "2026-03-18", False),  # standard_plus
    5: (A, C2, P4, None, "penthouse", "confirmed", "2026-03-13", "2026-03-16", False),  # unmatched
    6: (A, C1, P1, R3, None, "confirmed", "2026-03-16", "2026-03-18", False),  # starts the day after
    7: (A, C1, P1, R1, None, "checked_out", "2026-03-05", "2026-03-15", False),  # left that morning
    8: (A, C1, P2, R1, None, "no_show", "2026-03-15", "2026-03-16", False),
    9: (A, C2, P4, R2, None, "confirmed", "2026-03-15", "2026-03-17", True),  # soft-deleted
    10: (A, C3, P5, R1, None, "confirmed", "2026-03-14", "2026-03-16", False),  # customer deleted
    11: (A, C1, PB, R1, None, "confirmed", "2026-03-14", "2026-03-16", False),  # pet of tenant B
    12: (A, C1, uid("d", 99), R1, None, "confirmed", "2026-03-14", "2026-03-16", False),  # pet missing
    13: (A, C1, P1, R1, None, "confirmed", "2026-03-16", "2026-03-14", False),  # ends before it starts
    14: (A, C2, P4, R1, None, "confirmed", "2026-03-20", "2026-03-22", False),  # rescheduled to April later
    15: (A, C1, P1, R1, None, "checked_out", "2024-01-10", "2024-01-12", False),  # historical
    16: (A, C1, P2, None, None, "confirmed", "2026-06-01", "2026-06-03", False),  # future, unmatched
    17: (B, CB, PB, RB, None, "confirmed", "2026-03-15", "2026-03-16", False),
    18: (A, C1, P1, R1, None, "cancelled", "2025-08-10", "2025-08-07", True),  # deleted, and ends before it starts
    19: (A, C1, PB, R1, None, "cancelled", "2025-08-10", "2025-08-12", True),  # deleted, with a pet of tenant B
}

QUARANTINED_RESERVATIONS = {
    res(10): "orphan: customer deleted",
    res(11): "cross_tenant: pet",
    res(12): "orphan: pet missing",
    res(13): "invalid: end_date before start_date",
    # a deleted row stays in the history (flagged), so its own values and its tenant are checked all the same
    res(18): "invalid: end_date before start_date",
    res(19): "cross_tenant: pet",
}


def insert(conn: psycopg.Connection, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    for row in rows:
        columns = list(row)
        conn.execute(
            sql.SQL("insert into app.{} ({}) values ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            ),
            [row[column] for column in columns],
        )


def seed_source(ops_url: str) -> None:
    create_source_schema(ops_url)
    deleted = "2026-03-01T00:00:00Z"
    with psycopg.connect(ops_url) as conn:
        insert(
            conn,
            "tenants",
            [
                {"id": A, "slug": "a", "name": "A", "timezone": "Europe/Paris", "plan": "pro"},
                {"id": B, "slug": "b", "name": "B", "timezone": "America/New_York", "plan": "pro"},
            ],
        )
        insert(
            conn,
            "services",
            [
                {"id": SA, "tenant_id": A, "name": "Night", "category": "boarding", "price_cents": 4500},
                {"id": SB, "tenant_id": B, "name": "Night", "category": "boarding", "price_cents": 4500},
            ],
        )
        insert(
            conn,
            "resources",
            [
                {"id": R1, "tenant_id": A, "name": "Kennel 1", "suite_type": "standard", "capacity": 1},
                {"id": R2, "tenant_id": A, "name": "Kennel 2", "suite_type": "standard", "capacity": 2},
                {"id": R3, "tenant_id": A, "name": "Suite 3", "suite_type": "standard_plus", "capacity": 1},
                {"id": R4, "tenant_id": A, "name": "Lux 4", "suite_type": "luxury", "capacity": 1, "is_active": False},
                {
                    "id": R5,
                    "tenant_id": A,
                    "name": "Lux 5",
                    "suite_type": "luxury",
                    "capacity": 3,
                    "deleted_at": deleted,
                },
                {"id": RB, "tenant_id": B, "name": "Run B", "suite_type": "standard", "capacity": 5},
                {"id": R_ORPHAN, "tenant_id": uid("a", 99), "name": "Nowhere", "suite_type": "standard", "capacity": 1},
            ],
        )
        insert(
            conn,
            "customers",
            [
                {"id": C1, "tenant_id": A, "first_name": "Ada", "last_name": "One", "email": "ada@example.com"},
                {"id": C2, "tenant_id": A, "first_name": "Bo", "last_name": "Two", "phone": "+33 1 23 45 67 89"},
                {"id": C3, "tenant_id": A, "first_name": "Cy", "last_name": "Gone", "deleted_at": deleted},
                {"id": CB, "tenant_id": B, "first_name": "Di", "last_name": "Bee"},
                {"id": C_ORPHAN, "tenant_id": uid("a", 99), "first_name": "No", "last_name": "Tenant"},
            ],
        )
        insert(
            conn,
            "pets",
            [
                {"id": P1, "tenant_id": A, "customer_id": C1, "name": "Rex", "species": "dog"},
                {"id": P2, "tenant_id": A, "customer_id": C1, "name": "Alba", "species": "cat"},
                {"id": P3, "tenant_id": A, "customer_id": C1, "name": "Ghost", "species": "dog", "deleted_at": deleted},
                {"id": P4, "tenant_id": A, "customer_id": C2, "name": "Fido", "species": "dog"},
                {"id": P5, "tenant_id": A, "customer_id": C3, "name": "Lost", "species": "dog"},
                {"id": PB, "tenant_id": B, "customer_id": CB, "name": "Bee", "species": "dog"},
                {"id": P_CROSS, "tenant_id": A, "customer_id": CB, "name": "Cross", "species": "dog"},
            ],
        )
        # The app's foreign key would refuse an orphan; a replica-role session writes it anyway,
        # the way a cross-context race or a bad migration leaves one behind.
        conn.execute("set local session_replication_role = replica")
        insert(
            conn,
            "pets",
            [
                {"id": P_ORPHAN, "tenant_id": A, "customer_id": uid("c", 99), "name": "Orphan", "species": "cat"},
            ],
        )
        conn.execute("set local session_replication_role = origin")
        insert(
            conn,
            "reservations",
            [
                {
                    "id": res(n),
                    "tenant_id": tenant_id,
                    "customer_id": customer_id,
                    "pet_id": pet_id,
                    "resource_id": resource_id,
                    "service_id": SA if tenant_id == A else SB,
                    "requested_suite_type": label,
                    "status": status,
                    "start_date": start,
                    "end_date": end,
                    "total_cents": 1000 * n,
                    "deleted_at": deleted if is_deleted else None,
                }
                for n, (
                    tenant_id,
                    customer_id,
                    pet_id,
                    resource_id,
                    label,
                    status,
                    start,
                    end,
                    is_deleted,
                ) in RESERVATIONS.items()
            ],
        )


def rows(url: str, query: str, *params: Any) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def warehouse(make_database, tmp_path_factory) -> dict[str, Any]:
    """Seed, extract, build once; then reschedule reservation 14 (March -> April) and build again."""
    ops, wh = make_database("coreops"), make_database("corewh")
    target = tmp_path_factory.mktemp("dbt_target")
    seed_source(ops)
    load_all(ops, wh)
    first = dbt_build(wh, select=MODELS, vars={"run_date": RUN_DATE}, target_path=target, unit_tests=True)
    before = {
        "history": rows(
            wh, "select reservation_id, start_date, tableoid::regclass::text from marts.fct_reservation_history"
        ),
        "comment": rows(wh, "select obj_description('marts.fct_reservation_history'::regclass, 'pg_class')")[0][0],
        "first_seen": dict(rows(wh, "select record_key, first_seen_at from dq.quarantined_rows")),
        "occupancy": rows(wh, "select * from reporting.rpt_current_occupancy order by resource_id"),
    }
    with psycopg.connect(ops) as conn:
        conn.execute(
            "update app.reservations set start_date = '2026-04-20', end_date = '2026-04-22', version = version + 1 "
            "where id = %s",
            (res(14),),
        )
    load_all(ops, wh)
    second = dbt_build(wh, select=MODELS, vars={"run_date": RUN_DATE}, target_path=target, unit_tests=True)
    return {"ops": ops, "url": wh, "first": first, "second": second, "before": before, "target": target}


def test_every_model_and_dbt_test_passed(warehouse):
    for build in (warehouse["first"], warehouse["second"]):
        statuses = {node.name: node.status for node in build.nodes}
        assert statuses["fct_reservation_history"] == "success"
        assert all(status in {"success", "pass"} for status in statuses.values()), statuses
        assert any(node.resource_type == "unit_test" for node in build.nodes)


def test_history_is_a_range_partitioned_table_with_monthly_partitions_and_default(warehouse):
    url = warehouse["url"]
    assert rows(url, "select relkind::text from pg_class where oid = 'marts.fct_reservation_history'::regclass") == [
        ("p",)
    ]
    partitions = rows(
        url,
        "select child.relname::text, pg_get_expr(child.relpartbound, child.oid) from pg_inherits "
        "join pg_class as child on child.oid = inhrelid "
        "where inhparent = 'marts.fct_reservation_history'::regclass order by 1",
    )
    bounds = dict(partitions)
    assert bounds["fct_reservation_history_default"] == "DEFAULT"
    assert bounds["fct_reservation_history_p202603"] == "FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')"
    assert set(bounds) == {
        f"fct_reservation_history_{s}" for s in ("default", "p202401", "p202603", "p202604", "p202606")
    }
    indexes = rows(
        url,
        "select indexdef from pg_indexes where schemaname = 'marts' and tablename = 'fct_reservation_history_p202603'",
    )
    columns = sorted(definition.split("USING btree ")[1] for (definition,) in indexes)
    assert columns == [
        "(end_date)",
        "(reservation_id)",
        "(suite_type)",
        "(tenant_id, resource_id, start_date)",
        "(tenant_id, start_date)",
    ]


def test_reschedule_moves_the_row_and_rebuilds_only_the_touched_months(warehouse):
    url = warehouse["url"]
    before = {key: (start.isoformat(), part) for key, start, part in warehouse["before"]["history"]}
    assert before[res(14)] == ("2026-03-20", "marts.fct_reservation_history_p202603")
    after = rows(
        url,
        "select start_date::text, tableoid::regclass::text from marts.fct_reservation_history "
        "where reservation_id = %s",
        res(14),
    )
    assert after == [("2026-04-20", "marts.fct_reservation_history_p202604")]
    march = rows(url, "select reservation_id from marts.fct_reservation_history_p202603 order by 1")
    assert res(14) not in {key for (key,) in march}
    assert len(march) == len([k for k, (start, _) in before.items() if start.startswith("2026-03")]) - 1
    comment = rows(url, "select obj_description('marts.fct_reservation_history'::regclass, 'pg_class')")[0][0]
    # April had no partition: built and attached; March lost one row of six: patched in place
    assert "rebuilt=1; months=p202604; patched=1; patched_months=p202603;" in comment
    assert (
        "rebuilt=4; months=p202401,p202603,p202606,default" in warehouse["before"]["comment"]
    )  # the first build made every partition


def test_patched_history_equals_a_full_rebuild(warehouse):
    url = warehouse["url"]
    history = "select * from marts.fct_reservation_history order by reservation_id"
    incremental = rows(url, history)
    dbt_build(
        url, select="fct_reservation_history", vars={"run_date": RUN_DATE}, full_refresh=True,
        target_path=warehouse["target"],
    )  # fmt: skip
    assert rows(url, history) == incremental
    assert len(incremental) == len(warehouse["before"]["history"])


def test_change_detection_looks_raw_rows_up_by_their_changed_at_index(warehouse):
    # The planner must match the raw index through the staging view's renames; were the
    # expressions to drift apart, every incremental build would scan raw whole again.
    with psycopg.connect(warehouse["url"]) as conn:
        conn.execute("set enable_seqscan = off")  # the fixture's tables are tiny: ask for the index
        plan = "\n".join(
            line
            for (line,) in conn.execute(
                "explain select reservation_id from intermediate.int_reservation_changes "
                "where changed_at > now() - interval '1 hour'"
            )
        )
    assert "reservations_changed_at_idx" in plan, plan


def test_occupancy_on_the_run_date_equals_the_hand_count(warehouse):
    found = {
        (tenant_id, suite_type): (capacity, occupied, rate)
        for tenant_id, suite_type, capacity, occupied, rate in rows(
            warehouse["url"],
            "select tenant_id, suite_type, capacity, occupied, occupancy_rate::float "
            "from reporting.rpt_kennel_occupancy_daily where date = %s",
            RUN_DATE,
        )
    }
    assert found[(A, "standard")] == (3, 2, pytest.approx(2 / 3, abs=1e-4))  # reservations 1 and 2
    assert found[(A, "standard_plus")] == (1, 1, 1.0)  # reservation 4, matched from "STD+ suite"
    assert found[(A, "unmatched")] == (0, 1, None)  # reservation 5, still counted
    assert found[(B, "standard")] == (5, 1, 0.2)
    assert (A, "luxury") not in found  # inactive and deleted resources give no capacity
    assert len(found) == 4


def test_occupancy_the_days_around_the_run_date_equal_the_hand_count(warehouse):
    found = {
        (date, suite_type): (occupied, rate)
        for date, suite_type, occupied, rate in rows(
            warehouse["url"],
            "select date::text, suite_type, occupied, occupancy_rate::float from reporting.rpt_kennel_occupancy_daily "
            "where tenant_id = %s and date between '2026-03-14' and '2026-03-16' and suite_type = 'standard'",
            B,
        )
    }
    # B's one stay, the night of the 15th; the days around it are empty, not unknown
    assert found == {("2026-03-14", "standard"): (0, 0.0), ("2026-03-15", "standard"): (1, 0.2),
                     ("2026-03-16", "standard"): (0, 0.0)}  # fmt: skip
    ((occupied_14th,),) = rows(
        warehouse["url"],
        "select occupied from reporting.rpt_kennel_occupancy_daily "
        "where tenant_id = %s and suite_type = 'standard' and date = '2026-03-14'",
        A,
    )
    assert occupied_14th == 3  # reservations 1 and 2, and 7, which leaves the next morning


def test_occupancy_window_runs_from_a_year_back_to_90_days_ahead(warehouse):
    ((first, last, days),) = rows(
        warehouse["url"],
        "select min(date)::text, max(date)::text, count(distinct date) from reporting.rpt_kennel_occupancy_daily",
    )
    assert (first, last, days) == ("2025-03-15", "2026-06-13", 456)
    ((unmatched_june,),) = rows(
        warehouse["url"],
        "select occupied from reporting.rpt_kennel_occupancy_daily "
        "where tenant_id = %s and suite_type = 'unmatched' and date = '2026-06-02'",
        A,
    )
    assert unmatched_june == 1  # reservation 16, nights of 06-01 and 06-02


def test_current_occupancy_per_resource(warehouse):
    found = {
        resource_id: (is_occupied, reservation_id, pet_name, until)
        for resource_id, is_occupied, reservation_id, pet_name, until in rows(
            warehouse["url"],
            "select resource_id, is_occupied, reservation_id, pet_name, until_date::text "
            "from reporting.rpt_current_occupancy",
        )
    }
    assert found[R1] == (True, res(1), "Rex", "2026-03-17")
    assert found[R2] == (True, res(2), "Alba", "2026-03-16")
    assert found[R3] == (False, None, None, None)
    assert found[R4] == (False, None, None, None)
    assert R5 not in found and R_ORPHAN not in found
    relkind = rows(
        warehouse["url"], "select relkind::text from pg_class where oid = 'reporting.rpt_current_occupancy'::regclass"
    )
    assert relkind == [("m",)]
    unique = rows(
        warehouse["url"],
        "select count(*) from pg_index where indrelid = 'reporting.rpt_current_occupancy'::regclass and indisunique",
    )
    assert unique == [(1,)]


def test_raw_equals_marts_plus_quarantine(warehouse):
    url = warehouse["url"]
    pairs = {
        "reservations": "marts.fct_reservation_history",
        "customers": "marts.dim_customers",
        "pets": "marts.dim_pets",
        "resources": "marts.dim_resources",
    }
    for table, mart in pairs.items():
        ((raw_rows,),) = rows(url, f"select count(*) from raw.{table}")
        ((mart_rows,),) = rows(url, f"select count(*) from {mart}")
        ((quarantined,),) = rows(url, "select count(*) from dq.quarantined_rows where source_table = %s", table)
        assert raw_rows == mart_rows + quarantined, table
        assert quarantined > 0, table


def test_quarantine_names_each_row_and_reason_and_keeps_first_seen(warehouse):
    found = {
        (table, key): reason
        for table, key, reason in rows(
            warehouse["url"], "select source_table, record_key, reason from dq.quarantined_rows"
        )
    }
    for key, reason in QUARANTINED_RESERVATIONS.items():
        assert found[("reservations", str(key))] == reason
    assert found[("pets", str(P_CROSS))] == "cross_tenant: customer"
    assert found[("pets", str(P_ORPHAN))] == "orphan: customer missing"
    assert found[("pets", str(P5))] == "orphan: customer deleted"
    assert found[("resources", str(R_ORPHAN))] == "orphan: tenant missing"
    assert found[("customers", str(C_ORPHAN))] == "orphan: tenant missing"
    assert len(found) == 11
    first_seen_now = dict(rows(warehouse["url"], "select record_key, first_seen_at from dq.quarantined_rows"))
    assert first_seen_now == warehouse["before"]["first_seen"]


def test_unmatched_reservations_are_listed_with_a_reason(warehouse):
    found = dict(rows(warehouse["url"], "select reservation_id, reason from reporting.rpt_unmatched_reservations"))
    assert found == {
        res(5): "no resource assigned and requested suite type not recognised",
        res(16): "no resource assigned and no suite type requested",
    }


def test_calendar_tiers_and_names(warehouse):
    found = {
        key: (tier, resource_name, customer_name, pet_name)
        for key, tier, resource_name, customer_name, pet_name in rows(
            warehouse["url"],
            "select reservation_id, tier, resource_name, customer_name, pet_name "
            "from reporting.rpt_reservation_calendar",
        )
    }
    assert found[res(15)] == ("historical", "Kennel 1", "Ada One", "Rex")
    assert found[res(7)][0] == "recent"
    assert found[res(1)] == ("active", "Kennel 1", "Ada One", "Rex")
    assert found[res(16)] == ("future", None, "Ada One", "Alba")
    assert found[res(14)][0] == "future"  # rescheduled to 2026-04-20: 36 days ahead
    assert set(found) == set(res(n) for n in RESERVATIONS) - set(QUARANTINED_RESERVATIONS)


def test_customers_with_pets_excludes_soft_deleted_pets_and_customers(warehouse):
    found = {
        customer_id: (names, species)
        for customer_id, names, species in rows(
            warehouse["url"], "select customer_id, pet_names, pet_species from reporting.rpt_customers_with_pets"
        )
    }
    assert found[C1] == (["Alba", "Rex"], ["cat", "dog"])  # Ghost is soft-deleted
    assert found[C2] == (["Fido"], ["dog"])
    assert found[CB] == (["Bee"], ["dog"])  # the cross-tenant pet is quarantined, not listed
    assert C3 not in found
    columns = {
        name
        for (name,) in rows(
            warehouse["url"],
            "select column_name from information_schema.columns where table_schema in ('marts', 'reporting') "
            "and table_name in ('dim_customers', 'rpt_customers_with_pets', 'rpt_reservation_calendar')",
        )
    }
    assert not columns & {"email", "phone"}


def by_relation(rows: Iterable[tuple]) -> dict[str, list[tuple]]:
    """Rows (relation, column...) as {relation: [its columns' rows, in order]}."""
    grouped: dict[str, list[tuple]] = {}
    for relation, *column in rows:
        grouped.setdefault(relation, []).append(tuple(column))
    return grouped


def test_our_columns_query_gives_what_information_schema_gives_for_every_relation(warehouse):
    """dbt's get_columns_in_relation, overridden (macros/get_columns_in_relation.sql): for every
    relation of the built warehouse, every column's name, type and sizes as dbt-postgres's query
    of information_schema.columns gives them, in order, and nothing for a materialized view."""
    text = (DBT_PROJECT_DIR / "dbt_project" / "macros" / "get_columns_in_relation.sql").read_text()
    body = re.search(r"macro kw_columns_in_relation_sql\(oid_sql\) -%}(.*?){%- endmacro", text, re.S).group(1)
    ours = f"select r.oid::regclass::text, x.* from pg_class as r cross join lateral ({body}) as x"
    theirs = (
        "select format('%I.%I', table_schema, table_name)::regclass::text, column_name::text, data_type::text, "
        "character_maximum_length::integer, numeric_precision::integer, numeric_scale::integer "
        "from information_schema.columns order by table_schema, table_name, ordinal_position"
    )
    with psycopg.connect(warehouse["url"]) as conn:
        expected = conn.execute(theirs).fetchall()
        found = conn.execute(ours.replace("{{ oid_sql }}", "r.oid")).fetchall()
        ((views,),) = conn.execute("select count(*) from pg_matviews").fetchall()
    columns = by_relation(found)
    assert columns == by_relation(expected)
    assert {"marts.fct_reservation_history", "reporting.rpt_kennel_occupancy_daily"} <= set(columns)
    assert views > 0 and "reporting.rpt_current_occupancy" not in columns


def test_docs_generate_documents_the_models_and_their_columns(warehouse):
    """`dbt docs generate` (as `warehouse dbt docs` runs it) works on the built warehouse: the
    catalog has the partitioned history and the materialized view with their columns."""
    dbt_command(warehouse["url"], "docs generate", select=MODELS, vars={"run_date": RUN_DATE},
                target_path=warehouse["target"])  # fmt: skip
    catalog = json.loads((warehouse["target"] / "catalog.json").read_text())
    nodes = catalog["nodes"]
    history = nodes["model.kennelworks.fct_reservation_history"]
    assert {"reservation_id", "tenant_id", "start_date", "suite_type"} <= set(history["columns"])
    assert "tenant_id" in nodes["model.kennelworks.rpt_current_occupancy"]["columns"]
    assert (warehouse["target"] / "index.html").exists()


def test_no_password_reaches_dbt_target_or_logs(warehouse):
    password = conninfo_to_dict(warehouse["url"]).get("password")
    assert password, "the test server uses password authentication"
    written = [path for path in warehouse["target"].rglob("*") if path.is_file()]
    assert any(path.name == "manifest.json" for path in written)
    leaking = [str(path) for path in written if password.encode() in path.read_bytes()]
    assert leaking == []


# The calendar and the one-row table its tiers read the run date from.
CALENDAR = "int_run_date rpt_reservation_calendar"


def test_a_nightly_build_neither_waits_for_nor_blocks_the_readers_of_reporting_views(warehouse):
    """While analysts read the reporting tables, the calendar (a view over the history and the
    dims) and a tenant analyst their occupancy (`_for_tenant`, a view on the materialized
    view), and a check reads a staging view, the build of the same run date runs, then one of
    a new run date. No view's SQL changed, so none is replaced (the calendar reads the date
    when queried); the reporting tables are synced and the tables under the calendar patched,
    never swapped: no statement of the build waits for the readers (one that did would fail
    on lock_timeout)."""
    url, target = warehouse["url"], warehouse["target"]
    database = rows(url, "select current_database()")[0][0]
    reads = [
        "select count(*), count(*) filter (where tier = 'historical') from reporting.rpt_reservation_calendar",
        "select count(*) from reporting.rpt_current_occupancy_for_tenant",
        "select count(*) from staging.stg_app__reservations",
        "select count(*), sum(occupied) from reporting.rpt_kennel_occupancy_daily",
        "select count(*) from reporting.rpt_customers_with_pets",
        "select count(*) from reporting.rpt_unmatched_reservations",
    ]
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"alter database \"{database}\" set lock_timeout = '3s'")
    try:
        with psycopg.connect(url) as reader:  # one transaction: its locks stay until the end
            before = [reader.execute(query).fetchone() for query in reads]
            dbt_build(url, select=MODELS, vars={"run_date": RUN_DATE}, target_path=target)
            assert [reader.execute(query).fetchone() for query in reads] == before
            dbt_build(url, select=CALENDAR, vars={"run_date": "2027-04-01"}, target_path=target)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'alter database "{database}" reset lock_timeout')

    calendar_comment = "select obj_description('reporting.rpt_reservation_calendar'::regclass, 'pg_class')"
    (comment,) = rows(url, calendar_comment)[0]
    assert comment.startswith("kennelworks sql=")
    tier = "select tier from reporting.rpt_reservation_calendar where reservation_id = %s"
    assert rows(url, tier, res(1)) == [("historical",)]  # ended 2026-03-17: over a year before 2027-04-01
    dbt_build(url, select=CALENDAR, vars={"run_date": RUN_DATE}, target_path=target)
    assert rows(url, tier, res(1)) == [("active",)]
    assert rows(url, calendar_comment) == [(comment,)]  # the same view throughout
    # still runs with the caller's privileges and row-level security after each replacement
    options = "select reloptions from pg_class where oid = 'reporting.rpt_reservation_calendar'::regclass"
    assert rows(url, options) == [(["security_invoker=true"],)]


def test_a_view_follows_a_column_its_parent_gained_and_a_view_replaced_by_hand_is_rebuilt(warehouse):
    """A view is left alone when its comment matches its SQL, its parents' columns and its own
    columns (one catalog query). A parent that gained a column in place (stg_app__resources
    widened by hand, as a new staging column widens it) changes that: the next build of
    int_resources_checked (`resources.*`) carries the column. A view replaced by hand with
    other columns (its comment kept) is not taken for the model's and is built again."""
    url, target = warehouse["url"], warehouse["target"]
    columns = "select attname::text from pg_attribute where attrelid = %s::regclass and attnum > 0 order by attnum"
    calendar = "reporting.rpt_reservation_calendar"
    calendar_columns = rows(url, columns, calendar)
    (resources_sql,) = rows(url, "select pg_get_viewdef('staging.stg_app__resources'::regclass)")[0]
    (calendar_sql,) = rows(url, "select pg_get_viewdef(%s::regclass)", calendar)[0]
    with psycopg.connect(url, autocommit=True) as admin:
        for view, definition in (("staging.stg_app__resources", resources_sql), (calendar, calendar_sql)):
            admin.execute(
                f"create or replace view {view} as select v.*, 1 as kw_extra from ({definition.rstrip(';')}) as v"
            )
    dbt_build(url, select=["int_resources_checked", "rpt_reservation_calendar"], vars={"run_date": RUN_DATE},
              target_path=target)  # fmt: skip
    assert ("kw_extra",) in rows(url, columns, "intermediate.int_resources_checked")
    assert rows(url, columns, calendar) == calendar_columns

    # stg_app__resources is built again without the column; the views on it go and come back with it
    dbt_build(
        url, select="stg_app__resources+,config.materialized:view", vars={"run_date": RUN_DATE}, target_path=target
    )
    assert ("kw_extra",) not in rows(url, columns, "staging.stg_app__resources")
    assert ("kw_extra",) not in rows(url, columns, "intermediate.int_resources_checked")


def test_a_build_puts_right_the_readers_privileges_changed_by_hand(warehouse):
    """apply_access reads the privileges in place and leaves right ones alone; a reader's SELECT
    revoked and a write granted by hand are both set right by the next build."""
    url, target = warehouse["url"], warehouse["target"]
    table = "reporting.rpt_customers_with_pets"
    privileges = (
        "select string_agg(r.rolname || ':' || a.privilege_type, ',' order by r.rolname, a.privilege_type) "
        "from pg_class as c cross join aclexplode(c.relacl) as a join pg_roles as r on r.oid = a.grantee "
        "where c.oid = %s::regclass and r.rolname in ('analyst', 'finance_reader', 'tenant_analyst')"
    )
    assert rows(url, privileges, table) == [("analyst:SELECT,tenant_analyst:SELECT",)]
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"revoke select on {table} from tenant_analyst")
        admin.execute(f"grant insert on {table} to analyst")
    assert rows(url, privileges, table) == [("analyst:INSERT,analyst:SELECT",)]
    dbt_build(url, select="rpt_customers_with_pets", vars={"run_date": RUN_DATE}, target_path=target)
    assert rows(url, privileges, table) == [("analyst:SELECT,tenant_analyst:SELECT",)]


def test_a_reporting_table_built_without_its_key_index_gets_it_on_the_next_sync(warehouse):
    """A reporting table built by the old `table` materialization has no unique index, which
    INSERT ... ON CONFLICT needs: the next build adds the one the model configures and syncs
    the rows, no --full-refresh."""
    url, target = warehouse["url"], warehouse["target"]
    table = "reporting.rpt_customers_with_pets"
    before = rows(url, f"select * from {table} order by customer_id")
    indexes = f"select indexrelid::regclass::text from pg_index where indrelid = '{table}'::regclass"
    with psycopg.connect(url, autocommit=True) as admin:
        for (index,) in admin.execute(indexes).fetchall():
            admin.execute(f"drop index {index}")
        admin.execute(f"delete from {table} where customer_id = %s", (C1,))  # a row to restore
    dbt_build(url, select="rpt_customers_with_pets", vars={"run_date": RUN_DATE}, target_path=target)
    # the one index the model configures
    ((definition,),) = rows(
        url, f"select pg_get_indexdef(indexrelid) from pg_index where indrelid = '{table}'::regclass"
    )
    assert definition.startswith("CREATE UNIQUE INDEX ")
    assert definition.endswith(f" ON {table} USING btree (customer_id)")
    assert rows(url, f"select * from {table} order by customer_id") == before


def test_a_partition_index_added_to_the_config_reaches_every_partition_on_the_next_build(warehouse):
    """The history built before its `end_date` index was configured (rpt_current_occupancy
    looks up the stays ending after tonight by it): the next incremental build creates it on
    the parent, and so on every partition, keeping the rows; no --full-refresh."""
    url, target = warehouse["url"], warehouse["target"]
    history = "marts.fct_reservation_history"
    before = rows(url, f"select * from {history} order by reservation_id")
    end_date_indexes = (
        "select count(*) filter (where parent.indexrelid is not null), count(*) from pg_inherits "
        "join pg_class as part on part.oid = inhrelid "
        "left join pg_index as parent on parent.indrelid = part.oid "
        "and pg_get_indexdef(parent.indexrelid) ~ '[(]end_date[)]$' "
        f"where inhparent = '{history}'::regclass"
    )
    with psycopg.connect(url, autocommit=True) as admin:
        ((index,),) = admin.execute(
            f"select indexrelid::regclass::text from pg_index where indrelid = '{history}'::regclass "
            "and pg_get_indexdef(indexrelid) ~ '[(]end_date[)]$'"
        ).fetchall()
        admin.execute(f"drop index {index}")  # with the partitions' indexes attached to it
    ((with_index, partitions),) = rows(url, end_date_indexes)
    assert with_index == 0 and partitions == 5
    dbt_build(url, select="fct_reservation_history", vars={"run_date": RUN_DATE}, target_path=target)
    assert rows(url, end_date_indexes) == [(5, 5)]
    assert rows(url, f"select * from {history} order by reservation_id") == before


def test_a_sync_restores_the_model_s_rows_and_rewrites_only_those_that_differ(warehouse):
    """A reporting table tampered with three ways (a row missing, a row changed, a row the
    model does not have) is synced back to the model's rows by the next build; the rows that
    were right are not rewritten (same physical row), so the sync touches only the difference."""
    url, target = warehouse["url"], warehouse["target"]
    table = "reporting.rpt_customers_with_pets"
    before = rows(url, f"select * from {table} order by customer_id")
    untouched = rows(url, f"select customer_id, ctid::text from {table} where customer_id = %s", CB)
    assert len(untouched) == 1
    stranger = uid("c", 99)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"delete from {table} where customer_id = %s", (C1,))
        admin.execute(f"update {table} set first_name = 'Changed' where customer_id = %s", (C2,))
        admin.execute(
            f"insert into {table} select %s, tenant_id, 'Not', 'There', pet_ids, pet_names, pet_species "
            f"from {table} where customer_id = %s",
            (stranger, C2),
        )
    dbt_build(url, select="rpt_customers_with_pets", vars={"run_date": RUN_DATE}, target_path=target)
    assert rows(url, f"select * from {table} order by customer_id") == before
    assert rows(url, f"select customer_id, ctid::text from {table} where customer_id = %s", CB) == untouched


def test_a_composite_key_with_a_null_part_fails_its_primary_key_test(warehouse):
    """The occupancy key (tenant_id, suite_type, date): its incremental build declared the parts
    NOT NULL, so PostgreSQL refuses a null part. Without that constraint (dropped by hand) the
    unique index alone does not stop one: the primary_key test looks for such rows and names
    the failing test, in this process (whose garbage collector dbt leaves on) and through the
    dbt executable Dagster runs (whose exit code says it failed)."""
    url, target = warehouse["url"], warehouse["target"]
    table = "reporting.rpt_kennel_occupancy_daily"
    stray = (
        f"insert into {table} (tenant_id, date, suite_type, capacity, occupied, occupancy_rate) "
        f"select tenant_id, date, null, capacity, occupied, occupancy_rate "
        f"from {table} where date = %s and tenant_id = %s and suite_type = 'standard'"
    )
    with psycopg.connect(url, autocommit=True) as admin:
        with pytest.raises(psycopg.errors.NotNullViolation, match="suite_type"):
            admin.execute(stray, (RUN_DATE, B))
        admin.execute(f"alter table {table} alter column suite_type drop not null")
        admin.execute(stray, (RUN_DATE, B))
    try:
        with pytest.raises(DbtError, match="primary_key_rpt_kennel_occupancy_daily_[a-z_]+ \\(fail\\): Got 1 result"):
            dbt_command(url, "test", select="rpt_kennel_occupancy_daily", target_path=target)
        assert gc.isenabled()
        with dbt_env(url):
            args = dbt_args(["test"], select="rpt_kennel_occupancy_daily", target_path=target)
            done = subprocess.run([DBT_EXECUTABLE, *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stdout
        assert "FAIL 1 primary_key_rpt_kennel_occupancy_daily_" in done.stdout
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"delete from {table} where suite_type is null")
            admin.execute(f"alter table {table} alter column suite_type set not null")
    dbt_command(url, "test", select="rpt_kennel_occupancy_daily", target_path=target)


def test_a_partition_whose_name_is_not_its_month_fails_the_placement_test(warehouse):
    """The placement test reads the catalog, not the rows: March's partition renamed as if it
    held January 2099 means March's rows no longer sit in their month's partition."""
    url, target = warehouse["url"], warehouse["target"]
    test = "assert_reservation_history_rows_sit_in_their_month"

    def rename(old: str, new: str) -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"alter table marts.fct_reservation_history_{old} rename to fct_reservation_history_{new}")

    rename("p202603", "p209901")
    try:
        with pytest.raises(DbtError, match=f"{test} \\(fail\\): Got 1 result"):
            dbt_command(url, "test", select=test, target_path=target)
    finally:
        rename("p209901", "p202603")
    dbt_command(url, "test", select=test, target_path=target)


def test_a_reader_never_waits_for_a_patch_and_a_swap_that_cannot_get_its_lock_fails(warehouse):
    """Runs last: reservation 6 (March) is cancelled. A reader holds the history open throughout.
    A backfill of March must DETACH the old partition: it fails on lock_timeout and leaves the
    reader's table untouched. The ordinary build patches March in place, which needs no lock a
    reader holds: it completes at once and cleans up what the failed build left aside."""
    url, ops = warehouse["url"], warehouse["ops"]
    history = "select reservation_id, status, tableoid::regclass::text from marts.fct_reservation_history"
    with psycopg.connect(ops) as conn:
        conn.execute("update app.reservations set status = 'cancelled' where id = %s", (res(6),))
    load_all(ops, url)
    before = sorted(rows(url, history))
    database = rows(url, "select current_database()")[0][0]
    with psycopg.connect(url, autocommit=True) as admin:  # a statement that waits fails, not hangs
        admin.execute(f"alter database \"{database}\" set lock_timeout = '20s'")
    with psycopg.connect(url) as reader:
        reader.execute("lock table marts.fct_reservation_history in access share mode")
        with pytest.raises(DbtError, match="lock timeout"):
            dbt_build(
                url, select="+fct_reservation_history", target_path=warehouse["target"],
                vars={"run_date": RUN_DATE, "reservation_months": ["2026-03-01"]},
            )  # fmt: skip
        assert sorted(reader.execute(history).fetchall()) == before

        dbt_build(url, select="+fct_reservation_history", vars={"run_date": RUN_DATE}, target_path=warehouse["target"])
        status = reader.execute(
            "select status, tableoid::regclass::text from marts.fct_reservation_history where reservation_id = %s",
            (res(6),),
        ).fetchall()
        assert status == [("cancelled", "marts.fct_reservation_history_p202603")]
    comment = rows(url, "select obj_description('marts.fct_reservation_history'::regclass, 'pg_class')")[0][0]
    assert "rebuilt=0;" in comment and "patched_months=p202603;" in comment
    leftovers = rows(url, "select relname::text from pg_class where relname like 'fct_reservation_history\\_\\_new%%'")
    assert leftovers == []


class FixedWarehouse(PostgresResource):
    """The warehouse resource pointed at this module's test database."""

    fixed_url: str

    def url(self) -> str:
        return self.fixed_url


def test_a_dagster_monthly_partition_rebuilds_that_month(warehouse):
    from pipelines.definitions import defs

    job = defs.get_job_def("rebuild_reservation_months")
    result = job.execute_in_process(
        partition_key="2026-03-01",
        resources={"warehouse_db": FixedWarehouse(database="warehouse", fixed_url=warehouse["url"])},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("rebuild_history_months")
    assert materialization.asset_key.path == ["marts", "fct_reservation_history"]
    comment = rows(warehouse["url"], "select obj_description('marts.fct_reservation_history'::regclass, 'pg_class')")
    assert "rebuilt=1; months=p202603;" in comment[0][0]


def test_a_month_rebuild_keeps_its_own_parse_state_so_the_next_dagster_dbt_step_parses_nothing(warehouse, tmp_path):
    """Vars are part of dbt's partial-parse check. DBT_TARGET_PATH's state is the one each Dagster
    dbt step starts from (dagster-dbt copies it; no vars): a month rebuild (vars) keeps its own."""
    prepare_manifest(force=True)  # the state Dagster's definitions leave when they load
    dbt_build(warehouse["url"], select="+fct_reservation_history", vars={"reservation_months": ["2026-03-01"]})
    # what dagster-dbt does before a dbt step: the state copied to the step's own target
    shutil.copy(DBT_TARGET_PATH / "partial_parse.msgpack", tmp_path / "partial_parse.msgpack")
    run_dbt(PARSE_ONLY_URL, dbt_args(["parse"], target_path=tmp_path))
    log = (tmp_path / "logs" / "dbt.log").read_text()
    assert "Unable to do partial parsing" not in log


def test_patched_dimensions_equal_a_full_rebuild(warehouse):
    """dim_customers and dim_pets, and the customer and pet checks they read, are patched by
    key: after customer 2 is renamed and pet 4 re-bred in the app, a build re-derives just
    those rows (and the pets of the renamed customer), and the result equals a --full-refresh
    build."""
    url, target = warehouse["url"], warehouse["target"]
    with psycopg.connect(warehouse["ops"]) as conn:
        conn.execute("update app.customers set last_name = 'Renamed' where id = %s", (C2,))
        conn.execute("update app.pets set breed = 'Beagle' where id = %s", (P4,))
    load_all(warehouse["ops"], url)
    tables = {
        "intermediate.int_customers_checked": ("customer_id", C2, "last_name", "Renamed"),
        "intermediate.int_pets_checked": ("pet_id", P4, "breed", "Beagle"),
        "marts.dim_customers": ("customer_id", C2, "last_name", "Renamed"),
        "marts.dim_pets": ("pet_id", P4, "breed", "Beagle"),
    }
    models = [table.split(".")[1] for table in tables]
    dbt_build(url, select=models, vars={"run_date": RUN_DATE}, target_path=target)
    patched = {}
    for table, (key_column, key, column, value) in tables.items():
        comment = rows(url, f"select obj_description('{table}'::regclass, 'pg_class')")[0][0]
        assert "patched keys=" in comment, (table, comment)
        assert rows(url, f"select {column} from {table} where {key_column} = %s", key) == [(value,)]
        patched[table] = rows(url, f"select * from {table} order by 1")
    dbt_build(url, select=models, vars={"run_date": RUN_DATE}, full_refresh=True, target_path=target)
    assert {table: rows(url, f"select * from {table} order by 1") for table in tables} == patched


def test_a_pet_that_changes_owner_leaves_the_old_owner_s_row(warehouse):
    """Alba (pet 2) passes from customer 1 to customer 2 in the app. The next ordinary build lists
    her under customer 2 only: in dim_pets (patched by key) and in rpt_customers_with_pets, where
    the old owner's row changes too although nothing of customer 1 changed in the app (the case
    a patch of that table by customer would have to handle)."""
    url, target = warehouse["url"], warehouse["target"]
    with psycopg.connect(warehouse["ops"]) as conn:
        conn.execute("update app.pets set customer_id = %s where id = %s", (C2, P2))
    load_all(warehouse["ops"], url)
    dbt_build(url, select="+rpt_customers_with_pets", vars={"run_date": RUN_DATE}, target_path=target)
    assert rows(url, "select customer_id from marts.dim_pets where pet_id = %s", P2) == [(C2,)]
    pets = dict(rows(url, "select customer_id, pet_names from reporting.rpt_customers_with_pets"))
    assert pets[C1] == ["Rex"]
    assert pets[C2] == ["Alba", "Fido"]


def test_current_occupancy_follows_a_new_run_date_without_a_full_refresh(warehouse):
    """The materialized view reads the run date from int_run_date: a build for the next day
    refreshes it (CONCURRENTLY: the same relation, its SQL unchanged) to that day's stays, and
    keeps its _for_tenant view."""
    url = warehouse["url"]
    models = "int_run_date rpt_current_occupancy"
    (view_before,) = rows(url, "select 'reporting.rpt_current_occupancy'::regclass::oid")
    dbt_build(url, select=models, vars={"run_date": "2026-03-16"}, target_path=warehouse["target"])
    assert rows(url, "select 'reporting.rpt_current_occupancy'::regclass::oid") == [view_before]
    found = {
        resource_id: (is_occupied, reservation_id, until)
        for resource_id, is_occupied, reservation_id, until in rows(
            url,
            "select resource_id, is_occupied, reservation_id, until_date::text from reporting.rpt_current_occupancy",
        )
    }
    assert found[R1] == (True, res(1), "2026-03-17")
    assert found[R2] == (False, None, None)  # stay 2 left on the 16th: occupied on the 15th, free now
    assert all(until > "2026-03-16" for _, _, until in found.values() if until)
    assert rows(url, "select count(*) from reporting.rpt_current_occupancy_for_tenant") == [(0,)]  # admin: no tenant
    comment = rows(url, "select obj_description('reporting.rpt_current_occupancy'::regclass, 'pg_class')")[0][0]
    assert comment.startswith("kennelworks sql=")
    # the unique index a refresh CONCURRENTLY needs
    unique = "select count(*) from pg_index where indisunique and indrelid = %s::regclass"
    assert rows(url, unique, "reporting.rpt_current_occupancy") == [(1,)]
    dbt_build(url, select=models, vars={"run_date": "2026-03-16"}, target_path=warehouse["target"])
    assert rows(url, "select obj_description('reporting.rpt_current_occupancy'::regclass, 'pg_class')")[0][0] == comment
