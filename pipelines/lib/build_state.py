"""What each dbt node's last successful build saw, kept in the warehouse (meta.dbt_node_builds).

A build reads the inputs' versions before dbt starts, and afterwards records every node that
succeeded with the fingerprint and input versions it was built from, and when; a node that
failed, was skipped or only warned loses its record, so the next build takes it again.
A changed-only build also lists, for its own run, the tests that passed before with the same
code, when and with which raw versions (meta.dbt_test_scope): they test only the rows changed
since (dbt_project/macros/tests/test_scope.sql); the list is emptied when the build is recorded.
The state lives beside the data it describes: a second warehouse (tests, bench) keeps its own.
See pipelines.lib.build_plan for the rule that uses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pipelines.lib import build_plan
from pipelines.lib.databases import connect
from pipelines.lib.raw_changes import CHANGED_AT
from pipelines.settings import PROJECT_ROOT

# Created once, by the first build of a warehouse (no catalog write when they exist).
DDL = """
do $$
begin
    if to_regclass('meta.dbt_test_scope') is null then
        create schema if not exists meta;
        create table meta.dbt_test_scope (unique_id text primary key, since timestamptz not null);
        comment on table meta.dbt_test_scope is
            'The tests the running changed-only build may run on the rows changed since `since` only.';
    end if;
    -- the raw tables' versions the test's pass saw (a warehouse from before it lacks the column)
    if not exists (select from pg_attribute
                   where attrelid = 'meta.dbt_test_scope'::regclass and attname = 'inputs') then
        alter table meta.dbt_test_scope add column inputs jsonb not null default '{}';
    end if;
    if to_regclass('meta.dbt_node_builds') is null then
        create table meta.dbt_node_builds (
            unique_id text primary key,
            fingerprint text not null,
            inputs jsonb not null,
            built_at timestamptz not null default now()
        );
        comment on table meta.dbt_node_builds is
            'One row per dbt node whose last build succeeded: its code fingerprint, its inputs'' versions then.';
    end if;
end
$$;
"""

# The one rule for what PostgreSQL guarantees of plain `columns` (lower-case names) of a table,
# partitioned table or materialized view (never a view: its rows are not checked): 'not_null',
# every one of them declared NOT NULL by a validated constraint (PostgreSQL 18 sets attnotnull
# for a NOT VALID one too, which leaves the rows already there unchecked); 'unique', a valid,
# non-partial unique index on exactly those columns, in any order; 'non_negative', each of them
# under a validated CHECK (column >= 0) of the table itself; 'accepted_values', the one column
# under a validated CHECK (column = any (array[`accepted`]::text[])) of the table itself, as
# PostgreSQL prints it (so a text column, the values in the test's order; anything else stays
# unproven and is scanned). The tests' macros read it (key_tests.sql: a proven property is not
# scanned for), and the planner (catalog_claims: a test proven before the build is left out of it).
CATALOG_PROVES = "meta.catalog_proves(text, text[], text, text[])"
# The signature before 'accepted_values' (replaced: a second overload would make calls ambiguous).
CATALOG_PROVES_BEFORE = "meta.catalog_proves(text, text[], text)"
CATALOG_PROVES_BODY = """
    select case property
        when 'not_null' then (
            select count(*) = cardinality(columns)
            from pg_class as target
            join pg_attribute as a on a.attrelid = target.oid
            where target.oid = to_regclass(relation) and target.relkind in ('r', 'p', 'm')
                and a.attname = any(columns) and not a.attisdropped and a.attnotnull
                and not exists (
                    select from pg_constraint as c
                    where c.conrelid = target.oid and c.contype = 'n' and not c.convalidated
                        and a.attnum = any(c.conkey)))
        when 'unique' then exists (
            select from pg_index as i
            join pg_class as target on target.oid = i.indrelid
            where target.oid = to_regclass(relation) and target.relkind in ('r', 'p', 'm')
                and i.indisunique and i.indisvalid and i.indpred is null and i.indexprs is null
                and i.indnatts = cardinality(columns)
                and array(select a.attname::text collate "C" from pg_attribute as a
                          where a.attrelid = target.oid and a.attnum = any(i.indkey::int2[]) order by 1)
                    = array(select name collate "C" from unnest(columns) as name order by 1))
        when 'non_negative' then (
            select count(*) = cardinality(columns)
            from unnest(columns) as name
            where exists (
                select from pg_constraint as c
                join pg_class as target on target.oid = c.conrelid
                where target.oid = to_regclass(relation) and target.relkind in ('r', 'p')
                    and c.contype = 'c' and c.convalidated
                    and pg_get_constraintdef(c.oid) = format('CHECK ((%I >= 0))', name)))
        when 'accepted_values' then cardinality(columns) = 1 and cardinality(accepted) > 0 and exists (
            select from pg_constraint as c
            join pg_class as target on target.oid = c.conrelid
            where target.oid = to_regclass(relation) and target.relkind in ('r', 'p')
                and c.contype = 'c' and c.convalidated
                and pg_get_constraintdef(c.oid) = format('CHECK ((%I = ANY (ARRAY[%s])))', columns[1],
                    (select string_agg(format('%L::text', value), ', ' order by n)
                     from unnest(accepted) with ordinality as listed(value, n))))
    end
"""
CATALOG_PROVES_SQL = f"""
create or replace function meta.catalog_proves(
    relation text, columns text[], property text, accepted text[] default null)
returns boolean language sql stable parallel safe set search_path = pg_catalog
as $body${CATALOG_PROVES_BODY}$body$
"""


def create_state_tables(warehouse_url: str) -> None:
    """meta.dbt_node_builds, meta.dbt_test_scope and meta.catalog_proves, where they do not exist yet."""
    with connect(warehouse_url) as conn:
        _create_state(conn)


def _create_state(conn: psycopg.Connection) -> None:
    conn.execute(DDL)
    current = conn.execute("select prosrc from pg_proc where oid = to_regprocedure(%s)", (CATALOG_PROVES,)).fetchone()
    if current is None or current[0] != CATALOG_PROVES_BODY:
        # (re)defined by one build at a time: two at once would update the same catalog row
        conn.execute("select pg_advisory_xact_lock(hashtext('kennelworks.catalog_proves'))")
        conn.execute(f"drop function if exists {CATALOG_PROVES_BEFORE}")
        conn.execute(CATALOG_PROVES_SQL)


def environment_fingerprint() -> str:
    """What outside the manifest changes every node's SQL: dbt_project.yml and the adapter."""
    project = (PROJECT_ROOT / "dbt_project.yml").read_text()
    return f"{project}\ndbt-postgres {metadata.version('dbt-postgres')}"


def input_versions(conn: psycopg.Connection, run_date: Any) -> dict[str, str | None]:
    """The version of every input now: each raw table's newest change (None when empty) and
    the run date ('' means the database's current_date, as run_date() does)."""
    tables = conn.execute(
        "select format('%I.%I', table_schema, table_name) from information_schema.columns "
        "where table_schema = 'raw' and column_name in ('_extracted_at', '_deleted_in_source_at') "
        "group by 1 having count(*) = 2 order by 1"
    ).fetchall()
    versions: dict[str, str | None] = {}
    if tables:
        parts = [
            sql.SQL("select {}, (select max({})::text from {})").format(
                sql.Literal(key), CHANGED_AT, sql.Identifier(*key.split("."))
            )
            for (key,) in tables
        ]
        versions.update(conn.execute(sql.SQL(" union all ").join(parts)).fetchall())
    ((versions[build_plan.RUN_DATE],),) = conn.execute(
        "select coalesce(nullif(%s, '')::date, current_date)::text", (str(run_date or ""),)
    ).fetchall()
    return versions


def read_records(conn: psycopg.Connection) -> dict[str, build_plan.NodeRecord]:
    rows = conn.execute("select unique_id, fingerprint, inputs, built_at::text from meta.dbt_node_builds").fetchall()
    return {uid: build_plan.NodeRecord(fingerprint, inputs, built_at) for uid, fingerprint, inputs, built_at in rows}


def missing_relations(conn: psycopg.Connection, nodes: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    """The models among `nodes` whose relation does not exist (dropped since their last build)."""
    models = [(uid, node["schema"], node["alias"]) for uid, node in nodes.items() if node["resource_type"] == "model"]
    rows = conn.execute(
        "select uid from unnest(%s::text[], %s::text[], %s::text[]) as m(uid, schema_name, alias) "
        "where to_regclass(format('%%I.%%I', schema_name, alias)) is null",
        [list(column) for column in zip(*models, strict=True)] if models else [[], [], []],
    ).fetchall()
    return frozenset(uid for (uid,) in rows)


def proven_by_catalog(conn: psycopg.Connection, claims: Mapping[str, build_plan.CatalogClaim]) -> set[str]:
    """The tests whose claims the catalog proves now (meta.catalog_proves), in one query."""
    if not claims:
        return set()
    rows = conn.execute(
        "select uid from unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::jsonb[]) "
        "as claim(uid, schema_name, relation_name, columns, properties, accepted) "
        "where (select bool_and(meta.catalog_proves(format('%%I.%%I', schema_name, relation_name), "
        "string_to_array(columns, ','), property, array(select value from jsonb_array_elements_text(accepted) "
        "with ordinality as listed(value, n) order by n))) from unnest(string_to_array(properties, ',')) as property)",
        [
            list(claims),
            [claim.schema for claim in claims.values()],
            [claim.name for claim in claims.values()],
            [",".join(claim.columns) for claim in claims.values()],
            [",".join(claim.properties) for claim in claims.values()],
            [Jsonb(list(claim.accepted)) for claim in claims.values()],
        ],
    ).fetchall()
    return {uid for (uid,) in rows}


@dataclass
class BuildPlan:
    """One build's view of the state: the inputs' versions before it, what it may leave out."""

    warehouse_url: str
    versions: dict[str, str | None]
    up_to_date: set[str] = field(default_factory=set)
    # the tests among up_to_date left out because the catalog proved them before the build
    proven: set[str] = field(default_factory=set)
    dbt_args: list[str] = field(default_factory=list)
    manifest: Mapping[str, Any] | None = None  # the one planned from, when changed only

    @property
    def builds_nothing(self) -> bool:
        """A changed-only plan that leaves out every model and data test: starting dbt would
        only find that out again (about 3.5 s for each Dagster dbt step of an idle hour)."""
        return self.manifest is not None and self.up_to_date >= build_plan.built_nodes(self.manifest).keys()

    def record(self, manifest_path: Path, results: Iterable[tuple[str, str]], reusable: bool = True) -> None:
        """Record the nodes that succeeded (unique_id, dbt status) with the fingerprints of the
        manifest they were built from; forget the others.

        `reusable=False` (a build with extra vars, e.g. chosen months): nothing it built is
        recorded, so the next build takes those nodes again. The tests' scopes of this build
        are dropped: only the build they were planned for may use them.
        """
        manifest = json.loads(Path(manifest_path).read_text())
        fingerprint = build_plan.fingerprints(manifest, environment_fingerprint())
        inputs = build_plan.inputs_of(manifest)
        done, undone = [], []
        for uid, status in results:
            if uid not in fingerprint:
                continue
            if reusable and status in build_plan.SUCCEEDED:
                seen = build_plan.seen_inputs(inputs[uid], self.versions)
                done.append((uid, fingerprint[uid], Jsonb(seen)))
            else:
                undone.append(uid)
        with connect(self.warehouse_url) as conn:  # plan_build created the tables
            # forgotten: the nodes that did not succeed, and those no longer in the project
            conn.execute(
                "delete from meta.dbt_node_builds where unique_id = any(%s) or not unique_id = any(%s)",
                (undone, list(fingerprint)),
            )
            conn.cursor().executemany(
                "insert into meta.dbt_node_builds (unique_id, fingerprint, inputs) values (%s, %s, %s) "
                "on conflict (unique_id) do update set fingerprint = excluded.fingerprint, "
                "inputs = excluded.inputs, built_at = now()",
                done,
            )
            conn.execute("delete from meta.dbt_test_scope")


def plan_build(
    warehouse_url: str, run_date: Any, manifest_path: Path | None = None, views_follow_data: bool = False
) -> BuildPlan:
    """The inputs' versions before a build (`run_date`: ISO date, empty for today; a bound
    parameter, never SQL text); given the manifest, also the up-to-date nodes it can leave
    out (a changed-only build; `views_follow_data`: see build_plan.nodes_to_build)."""
    with connect(warehouse_url) as conn:
        _create_state(conn)
        plan = BuildPlan(warehouse_url, input_versions(conn, run_date))
        conn.execute("delete from meta.dbt_test_scope")  # an every-node build tests every row
        if manifest_path is not None:
            manifest = json.loads(Path(manifest_path).read_text())
            nodes = build_plan.built_nodes(manifest)
            records = read_records(conn)
            missing = missing_relations(conn, {uid: nodes[uid] for uid in records if uid in nodes})
            fingerprint = build_plan.fingerprints(manifest, environment_fingerprint())
            inputs = build_plan.inputs_of(manifest)
            build = build_plan.nodes_to_build(
                manifest, fingerprint, inputs, plan.versions, records, missing, views_follow_data
            )
            plan.proven = proven_by_catalog(
                conn, build_plan.catalog_claims(manifest, fingerprint, records, missing, build)
            )
            build -= plan.proven
            plan.up_to_date = set(nodes) - build
            plan.manifest = manifest
            plan.dbt_args = build_plan.exclude_args(manifest, plan.up_to_date)
            scopes = build_plan.scoped_tests(manifest, fingerprint, records, build)
            conn.cursor().executemany(
                "insert into meta.dbt_test_scope (unique_id, since, inputs) values (%s, %s, %s)",
                [(uid, since, Jsonb(dict(records[uid].inputs))) for uid, since in scopes.items()],
            )
    return plan
