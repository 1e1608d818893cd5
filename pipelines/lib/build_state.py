"""What each dbt node's last successful build saw, kept in the warehouse (meta.dbt_node_builds).

A build reads the inputs' versions before dbt starts, and afterwards records every node that
succeeded with the fingerprint and input versions it was built from, and when; a node that
failed, was skipped or only warned loses its record, so the next build takes it again.
A changed-only build also lists, for its own run, the tests that passed before with the same
code (meta.dbt_test_scope): they test only the rows changed since (dbt_project/macros/tests/
test_scope.sql); the list is emptied when the build is recorded.
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
from pipelines.lib.extract.batch import CHANGED_AT  # when a raw row last changed; raw is indexed on it
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


def create_state_tables(warehouse_url: str) -> None:
    """meta.dbt_node_builds and meta.dbt_test_scope, where they do not exist yet."""
    with connect(warehouse_url) as conn:
        conn.execute(DDL)


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


@dataclass
class BuildPlan:
    """One build's view of the state: the inputs' versions before it, what it may leave out."""

    warehouse_url: str
    versions: dict[str, str | None]
    up_to_date: set[str] = field(default_factory=set)
    dbt_args: list[str] = field(default_factory=list)
    manifest: Mapping[str, Any] | None = None  # the one planned from, when changed only

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
        conn.execute(DDL)
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
            plan.up_to_date = set(nodes) - build
            plan.manifest = manifest
            plan.dbt_args = build_plan.exclude_args(manifest, plan.up_to_date)
            scopes = build_plan.scoped_tests(manifest, fingerprint, records, build)
            conn.cursor().executemany(
                "insert into meta.dbt_test_scope (unique_id, since) values (%s, %s)", list(scopes.items())
            )
    return plan
