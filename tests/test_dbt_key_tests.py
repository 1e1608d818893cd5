"""The project's `primary_key` test (macros/tests/key_tests.sql) on a real warehouse.

Where PostgreSQL enforces a property of the key (a unique index, NOT NULL columns) the test
reads the catalog instead of scanning for it; where it does not, it scans and finds the
violating rows: a repeated key value, a key with a null part.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from pipelines.lib.dbt import DbtError, dbt_command
from pipelines.lib.extract import load_all
from pipelines.source.create import create_source_schema

TENANT_KEY_TEST = "source_primary_key_app_tenants_id"


@pytest.fixture()
def landed(make_database, tmp_path):
    """An empty source, landed: raw.tenants exists with its primary key."""
    ops, warehouse = make_database("keyops"), make_database("keywh")
    create_source_schema(ops)
    load_all(ops, warehouse)
    return warehouse, tmp_path


def insert_tenants(warehouse: str, *keys) -> None:
    with psycopg.connect(warehouse) as conn:
        for key in keys:
            conn.execute(
                "insert into raw.tenants (id, _extracted_at, _batch_id) values (%s, now(), gen_random_uuid())", (key,)
            )


def tenant_key_test(warehouse: str, target) -> tuple[str, str]:
    """Run the key test of raw.tenants; its status and compiled SQL."""
    result = dbt_command(warehouse, "test", select="source:app.tenants", target_path=target)
    status = {node.name: node.status for node in result.nodes}[TENANT_KEY_TEST]
    return status, next((target / "run").rglob(f"{TENANT_KEY_TEST}.sql")).read_text()


def test_the_primary_key_passes_without_scanning(landed):
    warehouse, target = landed
    status, compiled = tenant_key_test(warehouse, target)
    assert status == "pass"
    assert "nothing to scan" in compiled


def test_a_unique_index_on_a_nullable_key_leaves_only_nulls_to_look_for(landed):
    warehouse, target = landed
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table raw.tenants drop constraint tenants_pkey")
        conn.execute("create unique index tenants_id on raw.tenants (id)")
        conn.execute("alter table raw.tenants alter column id drop not null")
    status, compiled = tenant_key_test(warehouse, target)
    assert status == "pass"
    assert "only null parts are looked for" in compiled

    insert_tenants(warehouse, None)
    with pytest.raises(DbtError, match=f"{TENANT_KEY_TEST} \\(fail\\): Got 1 result"):
        dbt_command(warehouse, "test", select="source:app.tenants", target_path=target)


def test_without_the_primary_key_the_test_scans_and_finds_the_duplicate_and_the_null(landed):
    warehouse, target = landed
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table raw.tenants drop constraint tenants_pkey")
        conn.execute("alter table raw.tenants alter column id drop not null")
    tenant = uuid.uuid4()
    insert_tenants(warehouse, tenant, tenant, None)
    with pytest.raises(DbtError, match=f"{TENANT_KEY_TEST} \\(fail\\): Got 2 results"):
        dbt_command(warehouse, "test", select="source:app.tenants", target_path=target)


def test_a_not_null_constraint_not_yet_validated_proves_nothing(landed):
    """PostgreSQL 18 marks a column NOT NULL for a NOT VALID constraint too, while the rows
    already there may hold nulls: the test scans for them."""
    warehouse, target = landed
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table raw.tenants drop constraint tenants_pkey")
        conn.execute("alter table raw.tenants alter column id drop not null")
        conn.execute("create unique index tenants_id on raw.tenants (id)")
    insert_tenants(warehouse, None)
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table raw.tenants add constraint tenants_id_not_null not null id not valid")
        (flagged,) = conn.execute(
            "select attnotnull from pg_attribute where attrelid = 'raw.tenants'::regclass and attname = 'id'"
        ).fetchone()
    assert flagged
    with pytest.raises(DbtError, match=f"{TENANT_KEY_TEST} \\(fail\\): Got 1 result"):
        dbt_command(warehouse, "test", select="source:app.tenants", target_path=target)
