"""Roles and tenant analysts over real connections (the RLS-on-reporting tests live with the dbt tests)."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from pipelines.cli import main as warehouse
from pipelines.lib.access import ANALYST, FINANCE_READER, GROUP_ROLES, TENANT_ANALYST, grant_tenant, init_access
from pipelines.lib.validation import InvalidInput
from tests.conftest import with_database

TENANT_A = "00000000-0000-0000-0000-00000000000a"


@pytest.fixture(scope="module")
def warehouse_url(make_database):
    url = make_database("access")
    with psycopg.connect(url) as conn:
        conn.execute(
            """
            create schema raw;
            create table raw.tenants (id uuid primary key, slug text, deleted_at timestamptz,
                                      _deleted_in_source_at timestamptz);
            create table raw.customers (id uuid primary key, tenant_id uuid, email text);
            """
        )
        conn.execute("insert into raw.tenants values (%s, 'alpha-pets', null, null)", (TENANT_A,))
    init_access(url)
    init_access(url)  # idempotent
    return url


def _login_url(url: str, analyst) -> str:
    password = analyst.password_file.read_text().strip().rsplit(":", 1)[1]
    head, rest = url.split("://", 1)
    hostpart = rest.split("@", 1)[1]
    return f"{head}://{analyst.role}:{password}@{hostpart}"


def test_only_the_admin_is_superuser_or_bypasses_rls(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        privileged = {
            row[0]
            for row in conn.execute(
                "select rolname from pg_roles where (rolsuper or rolbypassrls) and rolname not like 'pg\\_%'"
            )
        }
        admin = conn.execute("select current_user").fetchone()[0]
        groups = conn.execute("select count(*) from pg_roles where rolname = any(%s)", (list(GROUP_ROLES),)).fetchone()
    assert privileged == {admin}
    assert groups[0] == len(GROUP_ROLES)


def test_tenant_analyst_logs_in_and_cannot_read_raw(warehouse_url, tmp_path):
    analyst = grant_tenant(warehouse_url, "alpha-pets", tmp_path)
    assert analyst.role == "tenant_alpha_pets_analyst"
    assert analyst.password_file.stat().st_mode & 0o077 == 0
    with psycopg.connect(_login_url(warehouse_url, analyst)) as conn:
        assert conn.execute("select current_user").fetchone()[0] == analyst.role
        assert [str(row[0]) for row in conn.execute("select security.current_tenant_ids()")] == [TENANT_A]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select email from raw.customers")


def test_analysts_get_the_report_date_through_its_function_and_the_finance_reader_may_not(warehouse_url, tmp_path):
    """security.report_run_date() (the calendar's tiers read it when queried): a tenant
    analyst, who may not read the intermediate schema, gets the date through it; the finance
    reader, to whom the calendar is closed, may not call it."""
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("create table if not exists intermediate.int_run_date (run_date date)")
        conn.execute("alter table intermediate.int_run_date owner to warehouse_transformer")
        conn.execute("truncate intermediate.int_run_date")
        conn.execute("insert into intermediate.int_run_date values ('2026-03-15')")
        may_call = dict(
            conn.execute(
                "select role, has_function_privilege(role, 'security.report_run_date()', 'execute') "
                "from unnest(%s::text[]) as role",
                ([ANALYST, TENANT_ANALYST, FINANCE_READER],),
            ).fetchall()
        )
    assert may_call == {ANALYST: True, TENANT_ANALYST: True, FINANCE_READER: False}
    analyst = grant_tenant(warehouse_url, "alpha-pets", tmp_path)
    with psycopg.connect(_login_url(warehouse_url, analyst)) as conn:
        assert conn.execute("select security.report_run_date()").fetchone() == (dt.date(2026, 3, 15),)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select run_date from intermediate.int_run_date")


def test_grant_tenant_is_idempotent_and_keeps_the_password(warehouse_url, tmp_path):
    role = f"alpha_reader_{uuid.uuid4().hex[:8]}"  # roles are server-wide: fresh name per run
    first = grant_tenant(warehouse_url, "alpha-pets", tmp_path, role=role)
    second = grant_tenant(warehouse_url, "alpha-pets", tmp_path, role=role)
    assert first.created and not second.created
    with psycopg.connect(_login_url(warehouse_url, second)) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


@pytest.mark.parametrize("slug", ["alpha'; drop table raw.tenants; --", "alpha pets", "Alpha", "a;b", "x" * 80, "'"])
def test_injection_in_a_slug_is_rejected_before_any_sql(warehouse_url, tmp_path, slug):
    with pytest.raises(InvalidInput, match="tenant slug"):
        grant_tenant(warehouse_url, slug, tmp_path)
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.tenants").fetchone() == (1,)


def test_unknown_tenant_and_bad_role_are_clear_errors(warehouse_url, tmp_path):
    with pytest.raises(InvalidInput, match="no tenant with slug 'beta'"):
        grant_tenant(warehouse_url, "beta", tmp_path)
    with pytest.raises(InvalidInput, match="role name"):
        grant_tenant(warehouse_url, "alpha-pets", tmp_path, role='x"; drop role analyst; --')
    with pytest.raises(InvalidInput, match="reserved"):
        grant_tenant(warehouse_url, "alpha-pets", tmp_path, role="analyst")


def test_cli_rejects_a_quote_in_a_slug(capsys):
    assert warehouse(["access", "grant-tenant", "alpha'--"]) == 2
    assert "tenant slug" in capsys.readouterr().err


def test_tenant_analyst_cannot_connect_to_the_operational_source(warehouse_url, tmp_path, admin_url):
    analyst = grant_tenant(warehouse_url, "alpha-pets", tmp_path)
    other = _login_url(with_database(warehouse_url, "postgres"), analyst)
    # PUBLIC may connect to `postgres` by default, but never to the ops source
    ops_like = _login_url(with_database(admin_url, "ops"), analyst)
    with psycopg.connect(other) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(ops_like)
