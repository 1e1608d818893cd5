"""Roles, schemas and tenant membership of the warehouse (DESIGN.md §6).

Least privilege by construction: group roles own or read whole schemas; people log in
as their own roles and inherit a group. Tenant analysts' rows are limited by row-level
security keyed on role membership (`security.tenant_members`), never on a setting the
analyst could change. The per-relation half (RLS policies and grants) is re-applied by
the dbt post-hook `apply_access` every time a relation is rebuilt; this module does the
once-per-server half and is idempotent.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from pipelines.lib import validation
from pipelines.settings import Settings, get_settings

LOADER = "warehouse_loader"
TRANSFORMER = "warehouse_transformer"
FINANCE_READER = "finance_reader"
ANALYST = "analyst"
TENANT_ANALYST = "tenant_analyst"
GROUP_ROLES = (LOADER, TRANSFORMER, FINANCE_READER, ANALYST, TENANT_ANALYST)

LOADER_SCHEMAS = ("raw", "meta")
TRANSFORMER_SCHEMAS = ("staging", "intermediate", "marts", "reporting", "archive", "dq")
READER_SCHEMAS = {
    ANALYST: ("reporting", "marts"),
    TENANT_ANALYST: ("reporting", "marts"),
    FINANCE_READER: ("reporting", "marts", "archive"),
}

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

-- PII is hashed with a secret salt kept in a table nobody but the admin reads: models
-- call security.hash_pii(email), so neither compiled SQL in target/ nor dbt logs ever
-- contain the salt. SECURITY DEFINER runs as the admin; execute is granted to the transformer.
create table if not exists security.pii_salt (
    singleton boolean primary key default true check (singleton),
    salt text not null
);
revoke all on security.pii_salt from public;

create or replace function security.hash_pii(value text) returns text
language sql stable strict security definer parallel safe
set search_path = pg_catalog
as $$
    select encode(sha256(convert_to((select salt from security.pii_salt) || ':' || lower(btrim(value)), 'UTF8')), 'hex')
$$;
revoke all on function security.hash_pii(text) from public;

-- The date the reports were last built for (intermediate.int_run_date, a dbt model), for the
-- reporting views that compute from it when read (rpt_reservation_calendar's tiers): their
-- SQL then stays the same from one night to the next, so a build never replaces them, which
-- would take an ACCESS EXCLUSIVE lock and wait for every analyst reading them. Readers may
-- not read the intermediate schema: SECURITY DEFINER runs as the owner, the transformer
-- (set below); PL/pgSQL resolves the table when called, so this exists before the first build.
create or replace function security.report_run_date() returns date
language plpgsql stable security definer parallel safe
set search_path = pg_catalog
as $$ begin return (select run_date from intermediate.int_run_date); end $$;
revoke all on function security.report_run_date() from public;
"""

# Who reads which membership rows. Run only when not in place (see _secure_tenant_members):
# ALTER TABLE and DROP POLICY take an ACCESS EXCLUSIVE lock, and every query of a tenant
# analyst reads this table through its policies, so re-running them before each build would
# wait for those queries and make every later one wait.
TENANT_MEMBERS_POLICIES_SQL = """
alter table security.tenant_members enable row level security;
alter table security.tenant_members force row level security;
drop policy if exists own_memberships on security.tenant_members;
create policy own_memberships on security.tenant_members for select
    using (pg_catalog.pg_has_role(current_user, role_name, 'MEMBER'));
drop policy if exists transformer_all on security.tenant_members;
create policy transformer_all on security.tenant_members for select to warehouse_transformer using (true);
"""
TENANT_MEMBERS_POLICIES = ("own_memberships", "transformer_all")
TENANT_MEMBERS_FINGERPRINT = "kennelworks policies " + hashlib.md5(TENANT_MEMBERS_POLICIES_SQL.encode()).hexdigest()


@dataclass(frozen=True)
class TenantAnalyst:
    role: str
    tenant_id: str
    password_file: Path
    created: bool


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def pii_salt(settings: Settings) -> str:
    """The salt of PII hashes: KENNELWORKS_PII_SALT, else one generated once under the home (0600)."""
    if settings.pii_salt:
        return settings.pii_salt
    path = settings.home / "pii.salt"
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def init_access(warehouse_url: str, salt: str | None = None) -> None:
    """Create group roles, schemas, ownership and default privileges (idempotent).

    Cheap when everything is in place (it only writes what differs), so every dbt build
    runs it first: a fresh warehouse and an existing one end up the same. Roles are
    server-wide, so two databases initialised at once can collide on a role row: retried.
    """
    for attempt in range(3):
        try:
            return _init_access(warehouse_url, salt)
        except (psycopg.errors.InternalError_, psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected):
            if attempt == 2:
                raise


def _init_access(warehouse_url: str, salt: str | None = None) -> None:
    salt = salt or pii_salt(get_settings())
    with psycopg.connect(warehouse_url) as conn:
        # One initialiser at a time per database (roles are server-wide, so also retry below).
        conn.execute("select pg_advisory_xact_lock(hashtext('kennelworks.init_access'))")
        database = conn.info.dbname
        for role in GROUP_ROLES:
            attributes = conn.execute(
                "select rolcanlogin or rolsuper or rolcreatedb or rolcreaterole or rolreplication or rolbypassrls "
                "from pg_roles where rolname = %s",
                (role,),
            ).fetchone()
            if attributes is None:
                conn.execute(sql.SQL("create role {} nologin").format(_ident(role)))
            elif attributes[0]:
                conn.execute(
                    sql.SQL(
                        "alter role {} nologin nosuperuser nocreatedb nocreaterole noreplication nobypassrls"
                    ).format(_ident(role))
                )
        # dbt builds as the transformer (SET ROLE), extraction as the loader: the admin must be a member.
        for role in (TRANSFORMER, LOADER):
            if not conn.execute("select pg_has_role(current_user, %s, 'MEMBER')", (role,)).fetchone()[0]:
                conn.execute(sql.SQL("grant {} to current_user").format(_ident(role)))
        conn.execute(sql.SQL("revoke all on database {} from public").format(_ident(database)))
        # The embedded server also holds the source and Dagster's storage: only the admin connects there.
        for (other,) in conn.execute("select datname from pg_database where datname in ('ops', 'dagster')").fetchall():
            conn.execute(sql.SQL("revoke connect on database {} from public").format(_ident(other)))
        conn.execute(
            sql.SQL("grant connect on database {} to {}").format(
                _ident(database), sql.SQL(", ").join(_ident(role) for role in GROUP_ROLES)
            )
        )
        # Builds and loads stage data in temporary tables (dbt unit tests, extraction's staging).
        conn.execute(
            sql.SQL("grant temporary on database {} to {}, {}").format(
                _ident(database), _ident(TRANSFORMER), _ident(LOADER)
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
                        sql.SQL(owner) if owner == "current_user" else _ident(owner),
                        _ident(schema),
                        _ident(TRANSFORMER),
                    )
                )
        for schema in TRANSFORMER_SCHEMAS:
            _own_schema(conn, schema, TRANSFORMER)
        for role, schemas in READER_SCHEMAS.items():
            for schema in schemas:
                conn.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(schema), _ident(role)))
        conn.execute(SECURITY_SQL)
        _secure_tenant_members(conn)
        conn.execute(
            "insert into security.pii_salt (salt) values (%s) "
            "on conflict (singleton) do update set salt = excluded.salt "
            "where security.pii_salt.salt is distinct from excluded.salt",
            (salt,),
        )
        conn.execute(sql.SQL("grant execute on function security.hash_pii(text) to {}").format(_ident(TRANSFORMER)))
        _hand_over_relations(conn)
        conn.execute(sql.SQL("alter function security.report_run_date() owner to {}").format(_ident(TRANSFORMER)))
        conn.execute(
            sql.SQL("grant usage on schema security to {}, {}, {}").format(
                _ident(TENANT_ANALYST), _ident(ANALYST), _ident(TRANSFORMER)
            )
        )
        conn.execute(
            sql.SQL("grant execute on function security.report_run_date() to {}, {}").format(
                _ident(TENANT_ANALYST), _ident(ANALYST)
            )
        )
        conn.execute(
            sql.SQL("grant select on security.tenant_members to {}, {}").format(
                _ident(TENANT_ANALYST), _ident(TRANSFORMER)
            )
        )
        conn.execute("revoke all on function security.current_tenant_ids() from public")
        conn.execute(
            sql.SQL("grant execute on function security.current_tenant_ids() to {}, {}").format(
                _ident(TENANT_ANALYST), _ident(TRANSFORMER)
            )
        )


def _secure_tenant_members(conn: psycopg.Connection) -> None:
    """Row-level security on security.tenant_members, unless already in place (same policy text)."""
    in_place = conn.execute(
        """
        select c.relrowsecurity and c.relforcerowsecurity
            and (select count(*) from pg_policy as p
                 where p.polrelid = c.oid and obj_description(p.oid, 'pg_policy') = %s) = %s
        from pg_class as c where c.oid = 'security.tenant_members'::regclass
        """,
        (TENANT_MEMBERS_FINGERPRINT, len(TENANT_MEMBERS_POLICIES)),
    ).fetchone()[0]
    if in_place:
        return
    conn.execute(TENANT_MEMBERS_POLICIES_SQL)
    for policy in TENANT_MEMBERS_POLICIES:
        conn.execute(
            sql.SQL("comment on policy {} on security.tenant_members is {}").format(
                _ident(policy), sql.Literal(TENANT_MEMBERS_FINGERPRINT)
            )
        )


def _hand_over_relations(conn: psycopg.Connection) -> None:
    """Relations built before the transformer owned its schemas (e.g. by an older build) change owner."""
    rows = conn.execute(
        """
        select format('alter %%s %%I.%%I owner to %%I',
                      case c.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
                      n.nspname, c.relname, %s::text)
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = any(%s::text[])
          and c.relkind in ('r', 'p', 'v', 'm')
          and pg_get_userbyid(c.relowner) <> %s::name
        """,
        (TRANSFORMER, list(TRANSFORMER_SCHEMAS), TRANSFORMER),
    ).fetchall()
    for (statement,) in rows:
        conn.execute(statement)


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
            raise validation.InvalidInput(
                f"role {role!r} exists and is privileged; refusing to turn it into a tenant analyst"
            )
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
    return (
        f"PGPASSFILE={password_file} {psql} -h {parts.hostname} -p {parts.port} -U {role} -d {parts.path.lstrip('/')}"
    )
