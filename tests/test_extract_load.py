"""Extraction against a real PostgreSQL: full, incremental, deletes, late commits, refresh, text fidelity."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest
from extract_support import assert_raw_matches_source, databases, empty_pair, execute, scalar, seed_source  # noqa: F401 (fixtures)

from pipelines.lib.extract import REGISTRY, LockTimeout, load_all, load_table
from pipelines.lib.extract.meta import LOCK_NAMESPACE


@pytest.fixture()
def pair(empty_pair):  # noqa: F811
    ops, warehouse = empty_pair
    seed_source(ops)
    return ops, warehouse


def test_first_load_lands_every_table_with_its_keys_and_watermark(pair):
    ops, warehouse = pair
    results = load_all(ops, warehouse)

    assert [result.table for result in results] == list(REGISTRY)
    assert all(result.mode == "full" for result in results)
    for table in REGISTRY:
        assert_raw_matches_source(ops, warehouse, table)
    assert sum(result.rows_inserted for result in results) == sum(
        scalar(ops, f"select count(*) from app.{table}") for table in REGISTRY
    )
    assert scalar(warehouse, "select watermark from meta.extract_state where table_name = 'reservations'") == scalar(
        ops, "select max(updated_at) from app.reservations"
    )
    assert scalar(warehouse, "select count(*) from meta.load_log") == len(REGISTRY)
    # the contract: same columns and types as the source, then the load columns; key and tenant index
    raw_columns = scalar(
        warehouse,
        "select array_agg(column_name::text || ' ' || data_type::text order by ordinal_position) "
        "from information_schema.columns where table_schema = 'raw' and table_name = 'reservations'",
    )
    app_columns = scalar(
        ops,
        "select array_agg(column_name::text || ' ' || data_type::text order by ordinal_position) "
        "from information_schema.columns where table_schema = 'app' and table_name = 'reservations'",
    )
    assert raw_columns == app_columns + [
        "_extracted_at timestamp with time zone",
        "_batch_id uuid",
        "_deleted_in_source_at timestamp with time zone",
    ]
    # key, tenant, when each row last changed and each reference to another table (dbt's
    # incremental models look rows up by these: the changed ones, those of changed parents)
    assert scalar(
        warehouse,
        "select array_agg(indexname::text order by indexname) from pg_indexes "
        "where schemaname = 'raw' and tablename = 'reservations'",
    ) == [
        "reservations_changed_at_idx",
        "reservations_customer_id_idx",
        "reservations_pet_id_idx",
        "reservations_pkey",
        "reservations_resource_id_idx",
        "reservations_service_id_idx",
        "reservations_tenant_id_idx",
    ]
    # a column that names no table of the source (audit_log.record_id) gets no index
    assert (
        scalar(
            warehouse,
            "select count(*) from pg_indexes "
            "where schemaname = 'raw' and tablename = 'audit_log' and indexdef like '%record_id%'",
        )
        == 0
    )
    # every raw table has planner statistics when the load commits: a build started before
    # autovacuum analyzed them planned blind (10x slower)
    unanalyzed = scalar(
        warehouse,
        "select coalesce(array_agg(relname::text order by relname), '{}') from pg_stat_user_tables "
        "where schemaname = 'raw' and last_analyze is null and last_autoanalyze is null",
    )
    assert unanalyzed == []
    assert scalar(warehouse, "select reltuples from pg_class where oid = 'raw.reservations'::regclass") == scalar(
        ops, "select count(*) from app.reservations"
    )


def test_incremental_load_applies_changes_and_flags_hard_deletes(pair):
    ops, warehouse = pair
    load_all(ops, warehouse)
    before = scalar(ops, "select count(*) from app.reservations")
    execute(
        ops,
        "update app.reservations set status = 'checked_in', version = version + 1 "
        "where id in (select id from app.reservations order by id limit 7)",
        "update app.reservations set deleted_at = now() "
        "where id in (select id from app.reservations order by id desc limit 3)",
        "delete from app.reservations where id in (select id from app.reservations order by id offset 100 limit 5)",
        "insert into app.reservations "
        "(tenant_id, customer_id, pet_id, service_id, status, start_date, end_date, total_cents) "
        "select tenant_id, customer_id, pet_id, service_id, 'pending', date '2026-06-01', date '2026-06-04', 1 "
        "from app.reservations limit 4",
    )

    result = load_table(ops, warehouse, "reservations")

    assert (result.mode, result.rows_inserted, result.rows_updated, result.rows_flagged_deleted) == (
        "incremental",
        4,
        10,
        5,
    )
    assert_raw_matches_source(ops, warehouse, "reservations")
    assert scalar(warehouse, "select count(*) from raw.reservations") == before - 5 + 4 + 5  # raw never loses a row
    assert scalar(warehouse, "select count(*) from raw.reservations where _deleted_in_source_at is not null") == 5
    assert scalar(warehouse, "select count(*) from raw.reservations where deleted_at is not null") == 3
    assert (
        scalar(
            warehouse, "select count(distinct _batch_id) from raw.reservations where _deleted_in_source_at is not null"
        )
        == 1
    )


def test_second_run_without_source_changes_writes_nothing(pair):
    ops, warehouse = pair
    first = load_table(ops, warehouse, "customers")
    batches = scalar(warehouse, "select array_agg(distinct _batch_id) from raw.customers")

    again = load_table(ops, warehouse, "customers")

    assert again.mode == "incremental" and again.rows_read > 0  # rows inside the lookback are read again ...
    assert again.rows_written == 0  # ... and none is written, because none differs
    assert scalar(warehouse, "select array_agg(distinct _batch_id) from raw.customers") == batches
    assert again.watermark_after == again.watermark_before == first.watermark_after


def test_late_commit_inside_the_lookback_is_captured(pair):
    ops, warehouse = pair
    first = load_table(ops, warehouse, "customers")
    tenant = scalar(ops, "select id from app.tenants limit 1")
    with psycopg.connect(ops) as conn:  # the app stamps updated_at at transaction start, committed later
        conn.execute(
            "insert into app.customers (tenant_id, first_name, last_name, updated_at) values "
            "(%s, 'Late', 'Inside', %s), (%s, 'Late', 'Outside', %s)",
            (
                tenant,
                first.watermark_after - timedelta(minutes=5),
                tenant,
                first.watermark_after - timedelta(minutes=20),
            ),
        )

    result = load_table(ops, warehouse, "customers", lookback=timedelta(minutes=15))

    assert result.rows_inserted == 1
    assert scalar(warehouse, "select count(*) from raw.customers where first_name = 'Late'") == 1
    assert scalar(warehouse, "select last_name from raw.customers where first_name = 'Late'") == "Inside"
    assert result.watermark_after == first.watermark_after  # never moved back, never set from the clock
    # beyond the lookback only a full refresh (or a longer lookback) finds it
    load_table(ops, warehouse, "customers", full_refresh=True)
    assert_raw_matches_source(ops, warehouse, "customers")


def test_reconcile_keys_flags_deletes_the_audit_log_missed(pair):
    ops, warehouse = pair
    load_table(ops, warehouse, "pets")
    with psycopg.connect(ops) as conn:
        conn.execute("set session_replication_role = replica")  # bypasses the audit trigger, as a bulk purge would
        conn.execute("delete from app.pets where id in (select id from app.pets order by id limit 3)")

    missed = load_table(ops, warehouse, "pets")
    reconciled = load_table(ops, warehouse, "pets", reconcile_keys=True)

    assert missed.rows_flagged_deleted == 0
    assert reconciled.rows_flagged_deleted == 3
    assert_raw_matches_source(ops, warehouse, "pets")
    assert scalar(warehouse, "select count(*) from raw.pets where _deleted_in_source_at is not null") == 3


def test_full_refresh_rebuilds_and_keeps_rows_deleted_in_the_source(pair):
    ops, warehouse = pair
    load_table(ops, warehouse, "customers")
    total = scalar(warehouse, "select count(*) from raw.customers")
    execute(
        warehouse, "update raw.customers set first_name = 'corrupted' where last_name = 'Last1'"
    )  # raw damaged by hand
    execute(
        ops,
        "delete from app.pets where customer_id in (select id from app.customers where last_name = 'Last2')",
        "delete from app.customers where last_name = 'Last2'",
    )

    result = load_table(ops, warehouse, "customers", full_refresh=True)

    assert result.mode == "full_refresh"
    assert result.rows_flagged_deleted == 2
    assert_raw_matches_source(ops, warehouse, "customers")
    assert scalar(warehouse, "select count(*) from raw.customers") == total
    assert scalar(warehouse, "select count(*) from raw.customers where last_name = 'Last2'") == 2


def test_text_survives_byte_for_byte(pair):
    ops, warehouse = pair
    awkward = [
        "🐶🐾 Rex 👩‍👩‍👧",
        "שלום עליכם — مرحبا",
        'O\'Brien "the" quoted',
        "back\\slash \\N \\t and\ttab\nnewline\r",
    ]
    megabyte = ("🐾 ünïcødé \\ ' \" שלום " * 40_000)[:700_000]  # about 1 MB of UTF-8
    assert len(megabyte.encode()) > 1024 * 1024
    tenant = scalar(ops, "select id from app.tenants limit 1")
    with psycopg.connect(ops) as conn:
        for value in awkward:
            conn.execute(
                "insert into app.customers (tenant_id, first_name, last_name, phone) values (%s, %s, 'Odd', %s)",
                (tenant, value, value[::-1]),
            )
        conn.execute(
            "insert into app.customers (tenant_id, first_name, last_name, phone) values (%s, 'Big', 'Odd', %s)",
            (tenant, megabyte),
        )
        conn.execute(
            "insert into app.achievements (tenant_id, code, name, criteria) values (%s, 'odd', %s, %s::jsonb)",
            (tenant, awkward[1], '{"quote": "\\"", "slash": "\\\\", "emoji": "🐾", "rtl": "שלום"}'),
        )

    load_table(ops, warehouse, "customers")
    load_table(ops, warehouse, "achievements")

    with psycopg.connect(warehouse) as conn:
        landed = dict(conn.execute("select first_name, phone from raw.customers where last_name = 'Odd'").fetchall())
        criteria = conn.execute("select criteria from raw.achievements where code = 'odd'").fetchone()[0]
    assert landed == {**{value: value[::-1] for value in awkward}, "Big": megabyte}
    assert criteria == {"quote": '"', "slash": "\\", "emoji": "🐾", "rtl": "שלום"}
    assert_raw_matches_source(ops, warehouse, "customers")
    assert_raw_matches_source(ops, warehouse, "achievements")


def test_a_load_waiting_for_the_table_lock_fails_clearly_and_writes_nothing(pair):
    ops, warehouse = pair
    load_table(ops, warehouse, "customers")
    execute(ops, "update app.customers set first_name = 'changed' where last_name = 'Last1'")
    with psycopg.connect(warehouse) as holder:
        holder.execute("select pg_advisory_xact_lock(hashtext(%s), hashtext('customers'))", (LOCK_NAMESPACE,))
        with pytest.raises(LockTimeout, match=r"raw\.customers: another load of this table is still running"):
            load_table(ops, warehouse, "customers", lock_wait=timedelta(seconds=0.5))
    assert scalar(warehouse, "select count(*) from raw.customers where first_name = 'changed'") == 0
    assert scalar(warehouse, "select count(*) from meta.load_log where table_name = 'customers'") == 1


def test_two_concurrent_loads_of_one_table_load_it_once(pair):
    ops, warehouse = pair
    total = scalar(ops, "select count(*) from app.customers")
    results, errors = [], []

    def run():
        try:
            results.append(load_table(ops, warehouse, "customers"))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    load_table(ops, warehouse, "tenants")  # creates meta, so both loads start from the same state
    with psycopg.connect(warehouse) as holder:  # both loads queue behind this lock, then race for it
        holder.execute("select pg_advisory_xact_lock(hashtext(%s), hashtext('customers'))", (LOCK_NAMESPACE,))
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        holder.commit()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(result.mode for result in results) == ["full", "incremental"]
    assert sorted(result.rows_inserted for result in results) == [0, total]
    assert scalar(warehouse, "select count(*) from raw.customers") == total
    assert scalar(warehouse, "select count(*) from meta.load_log where table_name = 'customers'") == 2


@pytest.mark.parametrize("reader", ["psql", "psycopg"])
def test_both_readers_land_identical_rows(pair, reader):
    ops, warehouse = pair
    load_table(ops, warehouse, "reservations", reader=reader)
    execute(ops, "update app.reservations set notes = 'changed' where id in (select id from app.reservations limit 9)")

    result = load_table(ops, warehouse, "reservations", reader=reader, reconcile_keys=True)

    assert result.rows_updated == 9
    assert_raw_matches_source(ops, warehouse, "reservations")
