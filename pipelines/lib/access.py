"""Roles, schemas and tenant membership of the warehouse (DESIGN.md §6).

Least privilege by construction: group roles own or read whole schemas; people log in
as their own roles and inherit a group. Tenant analysts' rows are limited by row-level
security keyed on role membership (`security.tenant_members`), never on a setting the
analyst could change. The per-relation half (RLS policies and grants) is re-applied by
the dbt post-hook `apply_access` every time a relation is rebuilt; this module does the
once-per-server half and is idempotent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from pipelines.lib import validation

LOADER = "warehouse_loader"
TRANSFORMER = "warehouse_transformer"
FINANCE_READER = "finance_reader"
ANALYST = "analyst"
TENANT_ANALYST = "tenant_analyst"
GROUP_ROLES = (LOADER, TRANSFORMER, FINANCE_READER, ANALYST, TENANT_ANALYST)

LOADER_SCHEMAS = ("raw", "meta")
TRANSFORMER_SCHEMAS = ("staging", "intermediate", "marts", "reporting", "archive", "dq")
READER_SCHEMAS = {ANALYST: ("reporting",), TENANT_ANALYST: ("reporting",), FINANCE_READER: ("reporting", "marts", "archive")}

SECURITY_SQL = """
create schema if not exists security;

create table if not exists security.tenant_members (
    role_name name not null,
    tenant_id uuid not null,
    granted_at timestamptz not null default now(),
    primary key (role_name, tenant_id)
);

-- Tenant ids the *current* role may see. Plain (invoker) SQL: current_user is the
-- querying role even inside a view, and membership cannot be faked with SET.
-- The join on pg_roles skips mappings of dropped roles instead of failing every query.
create or replace function security.current_tenant_ids() returns setof uuid
language sql stable parallel safe
set search_path = pg_catalog
as $$
    select members.tenant_id
    from security.tenant_members as members
    join pg_catalog.pg_roles as roles on roles.rolname = members.role_name
    where pg_catalog.pg_has_role(current_user, roles.oid, 'MEMBER')
$$;

alter table security.tenant_members enable row level security;
alter table security.tenant_members force row level security;
drop policy if exists own_memberships on security.tenant_members;
create policy own_memberships on security.tenant_members for select
    using (pg_catalog.pg_has_role(current_user, role_name, 'MEMBER'));
drop policy if exists transformer_all on security.tenant_members;
create policy transformer_all on security.tenant_members for select to warehouse_transformer using (true);
"""


@dataclass(frozen=True)
class TenantAnalyst:
    role: str
    tenant_id: str
    password_file: Path
    created: bool


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def init_access(warehouse_url: str) -> None:
    """Create group roles, schemas, ownership and default privileges (idempotent)."""
    with psycopg.connect(warehouse_url) as conn:
        database = conn.info.dbname
        for role in GROUP_ROLES:
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("create role {} nologin").format(_ident(role)))
            conn.execute(
                sql.SQL("alter role {} nologin nosuperuser nocreatedb nocreaterole noreplication nobypassrls").format(
                    _ident(role)
                )
            )
        # dbt builds as the transformer (SET ROLE), extraction as the loader: the admin must be a member.
        conn.execute(sql.SQL("grant {}, {} to current_user").format(_ident(TRANSFORMER), _ident(LOADER)))
        conn.execute(sql.SQL("revoke all on database {} from public").format(_ident(database)))
        # The embedded server also holds the operational source and Dagster's storage: nobody but the admin connects there.
        for (other,) in conn.execute("select datname from pg_database where datname in ('ops', 'dagster')").fetchall():
            conn.execute(sql.SQL("revoke connect on database {} from public").format(_ident(other)))
        conn.execute(
            sql.SQL("grant connect on database {} to {}").format(
                _ident(database), sql.SQL(", ").join(_ident(role) for role in GROUP_ROLES)
            )
        )
        conn.execute("revoke all on schema public from public")
        for schema in LOADER_SCHEMAS:
            _own_schema(conn, schema, LOADER)
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(schema), _ident(TRANSFORMER)))
            conn.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(_ident(schema), _ident(TRANSFORMER))
            )
            for owner in (LOADER, "current_user"):
                conn.execute(
                    sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
                        sql.SQL(owner) if owner == "current_user" else _ident(owner), _ident(schema), _ident(TRANSFORMER)
                    )
                )
        for schema in TRANSFORMER_SCHEMAS:
            _own_schema(conn, schema, TRANSFORMER)
        for role, schemas in READER_SCHEMAS.items():
            for schema in schemas:
                conn.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(schema), _ident(role)))
        conn.execute(SECURITY_SQL)
        conn.execute(sql.SQL("grant usage on schema security to {}, {}").format(_ident(TENANT_ANALYST), _ident(TRANSFORMER)))
        conn.execute(sql.SQL("grant select on security.tenant_members to {}, {}").format(_ident(TENANT_ANALYST), _ident(TRANSFORMER)))
        conn.execute("revoke all on function security.current_tenant_ids() from public")
        conn.execute(
            sql.SQL("grant execute on function security.current_tenant_ids() to {}, {}").format(
                _ident(TENANT_ANALYST), _ident(TRANSFORMER)
            )
        )


def _own_schema(conn: psycopg.Connection, schema: str, owner: str) -> None:
    conn.execute(sql.SQL("create schema if not exists {}").format(_ident(schema)))
    conn.execute(sql.SQL("alter schema {} owner to {}").format(_ident(schema), _ident(owner)))
    conn.execute(sql.SQL("grant usage, create on schema {} to {}").format(_ident(schema), _ident(owner)))


def default_tenant_role(slug: str) -> str:
    return f"tenant_{validation.tenant_slug(slug).replace('-', '_')}_analyst"[:63]


def grant_tenant(warehouse_url: str, slug: str, credentials_dir: Path, role: str | None = None) -> TenantAnalyst:
    """Create (or refresh) a login role that sees exactly one tenant's rows.

    The password is generated once and kept in a pgpass file readable only by us; it is
    never printed. Everything user-supplied is validated before any SQL runs and bound
    as a parameter or quoted as an identifier.
    """
    validation.tenant_slug(slug)
    role = validation.role_name(role) if role else default_tenant_role(slug)
    if role in GROUP_ROLES:
        raise validation.InvalidInput(f"role name {role!r} is reserved for a group role")
    with psycopg.connect(warehouse_url) as conn:
        found = conn.execute(
            "select id::text from raw.tenants where slug = %s and deleted_at is null and _deleted_in_source_at is null",
            (slug,),
        ).fetchone()
        if found is None:
            raise validation.InvalidInput(f"no tenant with slug {slug!r} in raw.tenants (run the extraction first?)")
        tenant_id = found[0]
        existing = conn.execute("select rolsuper or rolbypassrls from pg_roles where rolname = %s", (role,)).fetchone()
        if existing and existing[0]:
            raise validation.InvalidInput(f"role {role!r} exists and is privileged; refusing to turn it into a tenant analyst")
        password_file = credentials_dir / f"{role}.pgpass"
        password = _read_password(password_file) or secrets.token_urlsafe(24)
        verb = "alter" if existing else "create"
        conn.execute(
            sql.SQL(verb + " role {} login nosuperuser nobypassrls nocreatedb nocreaterole password {}").format(
                _ident(role), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("grant {} to {}").format(_ident(TENANT_ANALYST), _ident(role)))
        conn.execute(
            "insert into security.tenant_members (role_name, tenant_id) values (%s, %s) on conflict do nothing",
            (role, tenant_id),
        )
        host, port, database = conn.info.host, conn.info.port, conn.info.dbname
    credentials_dir.mkdir(parents=True, exist_ok=True)
    credentials_dir.chmod(0o700)
    password_file.write_text(f"{host}:{port}:{database}:{role}:{password}\n")
    password_file.chmod(0o600)
    return TenantAnalyst(role=role, tenant_id=tenant_id, password_file=password_file, created=not existing)


def _read_password(password_file: Path) -> str | None:
    try:
        return password_file.read_text().strip().rsplit(":", 1)[1]
    except (FileNotFoundError, IndexError):
        return None


def psql_hint(role: str, password_file: Path, warehouse_url: str) -> str:
    """How a person connects as a tenant analyst, without showing the password."""
    from urllib.parse import urlsplit

    from pipelines.lib.pgserver import install_dir

    parts = urlsplit(warehouse_url)
    psql = install_dir() / "bin" / "psql"
    return f"PGPASSFILE={password_file} {psql} -h {parts.hostname} -p {parts.port} -U {role} -d {parts.path.lstrip('/')}"
