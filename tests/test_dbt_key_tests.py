"""The project's `unique` / `not_null` tests (macros/tests/key_tests.sql) on a real warehouse.

Where PostgreSQL enforces the property (a unique index, a NOT NULL column) the test reads the
catalog instead of scanning; where it does not, it scans and finds the violating rows.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from pipelines.lib.dbt import DbtError, dbt_command
from pipelines.lib.extract import load_all
from pipelines.source.create import create_source_schema

TENANT_KEY_TESTS = ["source_unique_app_tenants_id", "source_not_null_app_tenants_id"]


@pytest.fixture()
def landed(make_database, tmp_path):
    """An empty source, landed: raw.tenants exists with its primary key."""
    ops, warehouse = make_database("keyops"), make_database("keywh")
    create_source_schema(ops)
    load_all(ops, warehouse)
    return warehouse, tmp_path


def test_key_tests_pass_on_the_primary_key_without_scanning(landed):
    warehouse, target = landed
    result = dbt_command(warehouse, "test", select="source:app.tenants", target_path=target)
    assert {node.name: node.status for node in result.nodes if node.name in TENANT_KEY_TESTS} == {
        name: "pass" for name in TENANT_KEY_TESTS
    }
    compiled = (target / "run").rglob("source_unique_app_tenants_id.sql")
    assert "nothing to scan" in next(compiled).read_text()


def test_without_the_primary_key_the_tests_scan_and_find_the_duplicate_and_the_null(landed):
    warehouse, target = landed
    tenant = uuid.uuid4()
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table raw.tenants drop constraint tenants_pkey")
        conn.execute("alter table raw.tenants alter column id drop not null")
        for key in (tenant, tenant, None):
            conn.execute(
                "insert into raw.tenants (id, _extracted_at, _batch_id) values (%s, now(), gen_random_uuid())", (key,)
            )
    with pytest.raises(DbtError) as failure:
        dbt_command(warehouse, "test", select="source:app.tenants", target_path=target)
    message = str(failure.value)
    assert "source_unique_app_tenants_id (fail): Got 1 result" in message
    assert "source_not_null_app_tenants_id (fail): Got 1 result" in message
