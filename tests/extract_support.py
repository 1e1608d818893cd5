"""Helpers shared by the tests/test_extract_*.py modules: a small source and digests to compare."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from pipelines.lib.extract import REGISTRY
from pipelines.source.create import create_source_schema

_SHARED: dict[str, tuple[str, str]] = {}


@pytest.fixture()
def databases(make_database) -> tuple[str, str]:
    """(ops_url, warehouse_url) shared by every extraction test; `empty_pair` empties them.

    Creating and dropping a database costs a checkpoint on a busy server; emptying
    schemas costs next to nothing, so the whole extraction suite makes two databases.
    """
    if "pair" not in _SHARED:
        _SHARED["pair"] = (make_database("xops"), make_database("xwh"))
    return _SHARED["pair"]


@pytest.fixture()
def empty_pair(databases) -> tuple[str, str]:
    """A source with an empty app schema and a warehouse without raw or meta."""
    ops, warehouse = databases
    for url, schemas in ((ops, ("app", "generator")), (warehouse, ("raw", "meta"))):
        with psycopg.connect(url) as conn:
            for schema in schemas:
                conn.execute(f"drop schema if exists {schema} cascade")
    create_source_schema(ops)
    return ops, warehouse


def seed_source(ops_url: str, customers: int = 200) -> list[uuid.UUID]:
    """A small but complete source: two tenants with rows in the busy tables. Returns tenant ids."""
    tenants = [uuid.uuid4(), uuid.uuid4()]
    with psycopg.connect(ops_url) as conn:
        for number, tenant in enumerate(tenants):
            conn.execute(
                "insert into app.tenants (id, slug, name, timezone, plan) values (%s, %s, %s, 'Europe/Paris', 'pro')",
                (tenant, f"t{number}", f"Tenant {number}"),
            )
            conn.execute(
                "insert into app.services (tenant_id, name, category, price_cents) "
                "values (%s, 'Night', 'boarding', 4500)",
                (tenant,),
            )
            conn.execute(
                "insert into app.resources (tenant_id, name, suite_type, capacity) "
                "select %s, 'Kennel ' || g, 'standard', 1 from generate_series(1, 10) as g",
                (tenant,),
            )
            conn.execute(
                "insert into app.customers (tenant_id, first_name, last_name, email) "
                "select %s, 'First' || g, 'Last' || g, 'c' || g || '@example.com' from generate_series(1, %s) as g",
                (tenant, customers),
            )
            conn.execute(
                "insert into app.pets (tenant_id, customer_id, name, species) "
                "select tenant_id, id, 'Rex', 'dog' from app.customers where tenant_id = %s",
                (tenant,),
            )
            conn.execute(
                """
                insert into app.reservations (tenant_id, customer_id, pet_id, service_id, requested_suite_type,
                                              status, start_date, end_date, total_cents, notes)
                select pet.tenant_id, pet.customer_id, pet.id, service.id, 'Standard', 'confirmed',
                       date '2026-01-01' + (row_number() over () %% 300)::int,
                       date '2026-01-03' + (row_number() over () %% 300)::int, 9000, 'note ' || pet.id
                from app.pets as pet
                join app.services as service on service.tenant_id = pet.tenant_id
                where pet.tenant_id = %s
                """,
                (tenant,),
            )
            conn.execute(
                "insert into app.activities (tenant_id, customer_id, activity_date, distance_m, duration_s, route) "
                "select tenant_id, id, date '2026-02-01', 1200, 900, '[{\"lat\": 1.5, \"lon\": 2}]'::jsonb "
                "from app.customers where tenant_id = %s",
                (tenant,),
            )
    return tenants


def source_columns(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select column_name from information_schema.columns where table_schema = 'app' and table_name = %s "
            "order by ordinal_position",
            (table,),
        ).fetchall()
    return [name for (name,) in rows]


def digest(url: str, schema: str, table: str, columns: list[str], where: str = "true") -> tuple[int, str]:
    """(row count, md5 of every listed column of every row in key order): equal digests = equal tables."""
    key = ", ".join(f"picked.{name}" for name in REGISTRY[table].primary_key)
    listed = ", ".join(columns)
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"select count(*), md5(coalesce(string_agg(picked::text, E'\\n' order by {key}), '')) "
            f"from (select {listed} from {schema}.{table} where {where}) as picked"
        ).fetchone()


def assert_raw_matches_source(ops_url: str, warehouse_url: str, table: str) -> None:
    """Every live source row is in raw with identical values, and raw has no other live row."""
    columns = source_columns(ops_url, table)
    expected = digest(ops_url, "app", table, columns)
    landed = digest(warehouse_url, "raw", table, columns, where="_deleted_in_source_at is null")
    assert landed == expected, f"raw.{table} differs from app.{table}: {landed} != {expected}"


def scalar(url: str, query: str, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(url) as conn:
        for statement in statements:
            conn.execute(statement)
