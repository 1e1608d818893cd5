"""Tenant isolation over real connections as the real roles, on a warehouse dbt really built.

A generated source (scale 0.01) goes through extraction and `dbt build` (which builds as
warehouse_transformer and re-applies policies and grants in post-hooks); then tenant
analysts, an analyst and finance_reader log in with their own passwords and read.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from pipelines.lib.access import grant_tenant
from pipelines.lib.dbt import DBT_TARGET_PATH, dbt_build
from pipelines.lib.extract import load_all
from pipelines.source.generate import generate

RUN_DATE = date(2026, 6, 30)
SCHEMAS = ("marts", "reporting")


def _login(url: str, role: str, password: str) -> str:
    head, rest = url.split("://", 1)
    return f"{head}://{role}:{password}@{rest.split('@', 1)[1]}"


def _password(analyst) -> str:
    return analyst.password_file.read_text().strip().rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def built(make_database, tmp_path_factory):
    ops, warehouse = make_database("rls_ops"), make_database("rls_wh")
    generate(ops, scale=0.01, seed=9, reference_date=RUN_DATE,
             manifest_path=tmp_path_factory.mktemp("m") / "manifest.json")  # fmt: skip
    load_all(ops, warehouse)
    dbt_build(warehouse, vars={"run_date": RUN_DATE.isoformat()})
    with psycopg.connect(warehouse) as conn:
        tenants = conn.execute("select slug, id::text from raw.tenants order by slug limit 2").fetchall()
    credentials = tmp_path_factory.mktemp("credentials")
    analysts = {slug: grant_tenant(warehouse, slug, credentials) for slug, _ in tenants}
    return {"ops": ops, "warehouse": warehouse, "tenants": dict(tenants), "analysts": analysts}


def _tenant_relations(conn) -> list[str]:
    """Every relation analysts may read that has tenant_id (tables, views, tenant views of materialized views)."""
    rows = conn.execute(
        """
        select format('%%I.%%I', n.nspname, c.relname)
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v') and not c.relispartition
          and c.relname not like '%%\\_for\\_tenant'
          and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id')
        order by 1
        """,
        (list(SCHEMAS),),
    ).fetchall()
    matviews = conn.execute(
        "select format('%%I.%%I', schemaname, matviewname) from pg_matviews where schemaname = any(%s)",
        (list(SCHEMAS),),
    ).fetchall()
    return [row[0] for row in rows] + [row[0] for row in matviews]


def test_catalog_every_tenant_table_has_forced_rls_and_every_view_is_security_invoker(built):
    with psycopg.connect(built["warehouse"]) as conn:
        unprotected = conn.execute(
            """
            select format('%%I.%%I', n.nspname, c.relname)
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = any(%s) and c.relkind in ('r', 'p') and not c.relispartition
              and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id')
              and not (c.relrowsecurity and c.relforcerowsecurity)
            """,
            (list(SCHEMAS) + ["archive", "dq"],),
        ).fetchall()
        views = conn.execute(
            """
            select format('%%I.%%I', n.nspname, c.relname), coalesce(c.reloptions, '{}')
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = any(%s) and c.relkind = 'v'
            """,
            (list(SCHEMAS),),
        ).fetchall()
        owners = {row[0] for row in conn.execute(
            "select distinct pg_get_userbyid(relowner) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')", (list(SCHEMAS),))}  # fmt: skip
    assert unprotected == []
    not_invoker = [name for name, options in views
                   if "security_invoker=true" not in options and not name.endswith("_for_tenant")]  # fmt: skip
    assert not_invoker == []
    # views over materialized views (which cannot carry RLS) filter by role membership instead
    assert all("security_barrier=true" in options for name, options in views if name.endswith("_for_tenant"))
    assert owners == {"warehouse_transformer"}


def _assert_tenant_sees_only_its_rows(built, slug: str, statement_first: str | None = None) -> int:
    analyst = built["analysts"][slug]
    tenant_id = built["tenants"][slug]
    seen = 0
    with psycopg.connect(built["warehouse"]) as admin:
        relations = _tenant_relations(admin)
        expected = {
            name: admin.execute(f"select count(*) from {name} where tenant_id = %s", (tenant_id,)).fetchone()[0]
            for name in relations
        }
    with psycopg.connect(_login(built["warehouse"], analyst.role, _password(analyst))) as conn:
        if statement_first:
            conn.execute(statement_first)
        for name in relations:
            target = name if name.startswith("reporting.") or name.startswith("marts.") else name
            if name.split(".")[1] in {row[0] for row in conn.execute("select matviewname from pg_matviews")}:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"select 1 from {name} limit 1")
                conn.rollback()
                target = f"{name}_for_tenant"
            tenants = conn.execute(f"select distinct tenant_id::text from {target}").fetchall()
            count = conn.execute(f"select count(*) from {target}").fetchone()[0]
            assert set(tenants) <= {(tenant_id,)}, f"{target} shows another tenant's rows to {analyst.role}"
            assert count == expected[name], f"{target}: {count} rows, tenant has {expected[name]}"
            seen += count
    return seen


def test_each_tenant_analyst_sees_exactly_its_own_rows_everywhere(built):
    for slug in built["analysts"]:
        assert _assert_tenant_sees_only_its_rows(built, slug) > 0


def test_setting_a_tenant_variable_changes_nothing(built):
    first, second = list(built["tenants"])
    statement = f"set app.current_tenant = '{built['tenants'][second]}'"
    _assert_tenant_sees_only_its_rows(built, first, statement_first=statement)


def test_policies_and_grants_survive_two_rebuilds(built):
    dbt_build(built["warehouse"], vars={"run_date": RUN_DATE.isoformat()})
    dbt_build(built["warehouse"], vars={"run_date": RUN_DATE.isoformat()}, full_refresh=True)
    test_catalog_every_tenant_table_has_forced_rls_and_every_view_is_security_invoker(built)
    for slug in built["analysts"]:
        assert _assert_tenant_sees_only_its_rows(built, slug) > 0


def _group_login(built, group: str, tmp_path) -> str:
    """A login role in `group` (analyst, finance_reader) with a password of its own."""
    import secrets
    import uuid

    role, password = f"{group}_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
    with psycopg.connect(built["warehouse"]) as conn:
        conn.execute(f"create role {role} login password '{password}' in role {group}")
    return _login(built["warehouse"], role, password)


def test_analyst_reads_all_reporting_but_no_raw_staging_or_clear_email(built, tmp_path):
    url = _group_login(built, "analyst", tmp_path)
    with psycopg.connect(built["ops"]) as ops:
        emails = [row[0] for row in ops.execute("select email from app.customers where email is not null limit 50")]
    with psycopg.connect(url) as conn:
        tenants = conn.execute("select count(distinct tenant_id) from reporting.rpt_kennel_occupancy_daily").fetchone()[
            0
        ]
        assert tenants > 1
        for forbidden in ("raw.customers", "staging.stg_app__customers", "intermediate.int_customers_checked"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {forbidden} limit 1")
            conn.rollback()
        readable = _tenant_relations(conn)
        for name in readable:
            text = conn.execute(f"select string_agg(t::text, ' ') from {name} as t").fetchone()[0] or ""
            assert not any(email in text for email in emails), f"clear e-mail in {name}"
        hashes = conn.execute("select count(email_hash) from marts.dim_customers").fetchone()[0]
    assert hashes > 0


def test_finance_reader_reads_finance_relations_only(built, tmp_path):
    url = _group_login(built, "finance_reader", tmp_path)
    with psycopg.connect(url) as conn:
        for name in ("reporting.rpt_finance_monthly", "reporting.rpt_ar_aging", "archive.financial_transactions"):
            conn.execute(f"select count(*) from {name}").fetchone()
        for name in (
            "reporting.rpt_kennel_occupancy_daily",
            "reporting.rpt_customers_with_pets",
            "marts.dim_customers",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {name} limit 1")
            conn.rollback()


def test_no_password_in_dbt_target_or_logs(built):
    from psycopg.conninfo import conninfo_to_dict

    password = conninfo_to_dict(built["warehouse"])["password"]
    assert password
    leaks = [
        str(path)
        for path in DBT_TARGET_PATH.rglob("*")
        if path.is_file() and path.stat().st_size < 50_000_000 and password in path.read_text(errors="ignore")
    ]
    assert leaks == []
    with psycopg.connect(built["warehouse"]) as conn:
        salt = conn.execute("select salt from security.pii_salt").fetchone()[0]
    assert not [str(p) for p in DBT_TARGET_PATH.rglob("*.sql") if salt in p.read_text(errors="ignore")]
