"""Which dbt nodes a nightly build can leave out: those with nothing new to read (pure logic).

dbt builds every selected node; most nights most of them would produce what they already
hold. A node is up to date, and left out of a `--changed-only` build, when its last build
succeeded (a test: passed) with
* the same code: a fingerprint of its SQL, its config, its test arguments and every macro
  of the project (a changed macro rebuilds everything: they are shared);
* the same inputs: the newest change of every raw table upstream of it (the extraction
  stamps each row it writes or flags as deleted) and, when it or a node upstream of it
  calls run_date(), the run date;
* no node it reads being built in this run, directly or through views (a changed parent
  changes its input).
A test is also left out when the catalog decides its result before the build: a not_null
or primary_key test of a relation whose columns are declared NOT NULL (and, for a key, carry
a unique index on exactly those columns), a non_negative test of a column with a validated
CHECK (column >= 0), or an accepted_values test of a column with a validated CHECK that it is
one of exactly those values, as PostgreSQL rejects every row that would fail it
(catalog_claims; the proof is pipelines/lib/build_state.py's meta.catalog_proves). Only on a
source, which dbt never writes, or a model changed in place with the code of its last build,
so that the build cannot take the constraints away (the project's materializations keep them).
A view holds no data: it is rebuilt only for its own code (the run date is part of it when
it calls run_date(): the date is written into its SQL), or when a parent is replaced rather
than changed in place (dbt's `table` materialization drops the old table, and the views on
it with CASCADE). A node whose relation is missing is never up to date.

Rows written into a model by hand are outside this contract: the build that follows does
not re-test a node whose inputs did not change. `--changed-only` is off by default; nightly
runs turn it on. dbt Fusion's "state-aware orchestration" makes the same decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The pseudo-input of the nodes that read run_date() (the macro in dbt_project/macros).
RUN_DATE = "run_date"
RUN_DATE_MACRO = "run_date"
# Materializations that change their relation in place: views on them survive a build.
IN_PLACE = frozenset({"incremental", "patched_by_key", "partitioned_by_month", "materialized_view"})
BUILT = frozenset({"model", "test"})
# dbt statuses of a node whose result can be reused: a model built, a test passed.
SUCCEEDED = frozenset({"success", "pass"})


# Generic tests the catalog can decide, and what it must prove for each (a key has no null
# part and no repeated value), when they count their failing rows the default way.
CATALOG_DECIDED = {
    "not_null": ("not_null",),
    "primary_key": ("not_null", "unique"),
    "non_negative": ("non_negative",),
    "accepted_values": ("accepted_values",),
}
DEFAULT_OUTCOME = {"fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0"}
PLAIN_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class NodeRecord:
    """What the last successful build of one node saw."""

    fingerprint: str
    inputs: Mapping[str, str | None]
    built_at: str | None = None  # when it was recorded, after its build


def built_nodes(manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The manifest's models and data tests, by unique_id."""
    return {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] in BUILT}


def is_view(node: Mapping[str, Any]) -> bool:
    return node["resource_type"] == "model" and node["config"].get("materialized") == "view"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def fingerprints(manifest: Mapping[str, Any], environment: str = "") -> dict[str, str]:
    """Each node's code fingerprint: its own SQL, config and test arguments, and every
    project macro, dbt's version and `environment` (the caller's: dbt_project.yml, adapter)."""
    project = manifest["metadata"].get("project_name")
    macros = sorted(
        (uid, macro["macro_sql"]) for uid, macro in manifest["macros"].items() if macro["package_name"] == project
    )
    shared = _digest([manifest["metadata"].get("dbt_version"), environment, macros])
    return {
        uid: _digest(
            [
                shared,
                node.get("raw_code"),
                node.get("config"),
                node.get("test_metadata"),
                node["depends_on"]["nodes"],
                node.get("schema"),
                node.get("alias"),
            ]
        )
        for uid, node in built_nodes(manifest).items()
    }


def _macro_closure(manifest: Mapping[str, Any], roots: Iterable[str], seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    for uid in roots:
        if uid not in seen and uid in manifest["macros"]:
            seen.add(uid)
            _macro_closure(manifest, manifest["macros"][uid]["depends_on"]["macros"], seen)
    return seen


def source_key(source: Mapping[str, Any]) -> str:
    """How a source is named among the inputs: its schema and table, e.g. raw.reservations."""
    return f"{source['schema']}.{source['identifier']}"


def calls_run_date(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """Whether the node's SQL or hooks call run_date(), directly or through other macros."""
    macros = _macro_closure(manifest, node["depends_on"]["macros"])
    return any(manifest["macros"][macro]["name"] == RUN_DATE_MACRO for macro in macros)


def inputs_of(manifest: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each node's inputs: the raw tables upstream of it, and RUN_DATE when it or an
    ancestor calls run_date() (in its SQL, its hooks or any macro they call)."""
    sources = {uid: source_key(source) for uid, source in manifest["sources"].items()}
    nodes = manifest["nodes"]
    memo: dict[str, frozenset[str]] = {}

    def of(uid: str) -> frozenset[str]:
        if uid in sources:
            return frozenset({sources[uid]})
        if uid not in memo:
            node = nodes.get(uid)
            found: set[str] = set()
            if node is not None:
                if calls_run_date(manifest, node):
                    found.add(RUN_DATE)
                for parent in manifest["parent_map"].get(uid, []):
                    found |= of(parent)
            memo[uid] = frozenset(found)
        return memo[uid]

    return {uid: of(uid) for uid in built_nodes(manifest)}


def seen_inputs(keys: Iterable[str], versions: Mapping[str, str | None]) -> dict[str, str | None]:
    """The versions of `keys` (a node's inputs) as a build records them."""
    return {key: versions.get(key) for key in sorted(keys)}


def built_with_same_code(
    uid: str, fingerprint: Mapping[str, str], records: Mapping[str, NodeRecord], missing: frozenset[str] = frozenset()
) -> bool:
    """Whether the node's last successful build had its current code and its relation still
    exists (`missing`: the models whose relation does not)."""
    record = records.get(uid)
    return record is not None and uid not in missing and record.fingerprint == fingerprint.get(uid)


def nodes_to_build(
    manifest: Mapping[str, Any],
    fingerprint: Mapping[str, str],
    inputs: Mapping[str, frozenset[str]],
    versions: Mapping[str, str | None],
    records: Mapping[str, NodeRecord],
    missing: frozenset[str] = frozenset(),
    views_follow_data: bool = False,
) -> set[str]:
    """The nodes that are not up to date (see the module's docstring); the rest can be left out.

    `versions`: the current version of every input (raw table -> newest change, RUN_DATE ->
    the run date); `records`: what each node's last successful build saw; `missing`: nodes
    whose relation does not exist. `views_follow_data`: also build every view that reads a
    node built in this run, directly or through views, so that no node left out reads one
    that is built (Dagster needs the outputs of a step in dependency order; transform/assets.py).
    """
    nodes = built_nodes(manifest)
    building: dict[str, bool] = {}
    changing: dict[str, bool] = {}

    def parents(uid: str) -> list[str]:
        return [parent for parent in manifest["parent_map"].get(uid, []) if parent in nodes]

    def replaced(parent: str) -> bool:
        # A parent rebuilt as a new relation takes the views on it along (DROP ... CASCADE).
        node = nodes[parent]
        return is_view(node) or node["config"].get("materialized") not in IN_PLACE

    def data_changes(uid: str) -> bool:
        """Whether what the node's readers see changes in this run: a view shows its parents'."""
        if uid not in changing:
            changing[uid] = needs_build(uid) or (is_view(nodes[uid]) and any(map(data_changes, parents(uid))))
        return changing[uid]

    def needs_build(uid: str) -> bool:
        if uid in building:
            return building[uid]
        node, record = nodes[uid], records.get(uid)
        changed = [parent for parent in parents(uid) if data_changes(parent)]
        if not built_with_same_code(uid, fingerprint, records, missing):
            building[uid] = True
        elif is_view(node):
            new_date = calls_run_date(manifest, node) and record.inputs.get(RUN_DATE) != versions.get(RUN_DATE)
            rebuilt = [parent for parent in parents(uid) if needs_build(parent)]
            building[uid] = new_date or any(map(replaced, rebuilt)) or (views_follow_data and bool(changed))
        else:
            building[uid] = bool(changed) or dict(record.inputs) != seen_inputs(inputs[uid], versions)
        return building[uid]

    return {uid for uid in nodes if needs_build(uid)}


def scoped_tests(
    manifest: Mapping[str, Any], fingerprint: Mapping[str, str], records: Mapping[str, NodeRecord], build: Iterable[str]
) -> dict[str, str]:
    """The tests of this build that passed before with the same code, of models last built with
    the same code, and when that pass was recorded: each needs testing only on the rows changed
    since (dbt_project/macros/tests/test_scope.sql). A model's new code can change any row of a
    view, which logs nothing (a table's full build starts its log afresh)."""
    nodes = manifest["nodes"]

    def tests_same_models(uid: str) -> bool:
        parents = nodes[uid]["depends_on"]["nodes"]
        models = [parent for parent in parents if nodes.get(parent, {}).get("resource_type") == "model"]
        return all(built_with_same_code(parent, fingerprint, records) for parent in models)

    return {
        uid: records[uid].built_at
        for uid in build
        if nodes[uid]["resource_type"] == "test"
        and built_with_same_code(uid, fingerprint, records)
        and records[uid].built_at
        and tests_same_models(uid)
    }


@dataclass(frozen=True)
class CatalogClaim:
    """What the catalog must prove of a relation for a test to pass: `properties` of `columns`
    (for accepted_values, that the column takes only the `accepted` values)."""

    schema: str
    name: str
    columns: tuple[str, ...]
    properties: tuple[str, ...]
    accepted: tuple[str, ...] = ()


def accepted_values(kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The values an accepted_values test accepts, when the catalog can decide it: quoted
    (the default) and all strings; else None."""
    values = kwargs.get("values")
    if kwargs.get("quote", True) is not True or not isinstance(values, list) or not values:
        return None
    return tuple(values) if all(isinstance(value, str) for value in values) else None


def tested_columns(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The columns a generic test names (`column_name`, or a key's `columns`), lower-case, once each."""
    names = [kwargs["column_name"]] if kwargs.get("column_name") else kwargs.get("columns") or []
    return tuple(dict.fromkeys(str(name).lower() for name in names))


def catalog_claims(
    manifest: Mapping[str, Any],
    fingerprint: Mapping[str, str],
    records: Mapping[str, NodeRecord],
    missing: frozenset[str],
    build: Iterable[str],
) -> dict[str, CatalogClaim]:
    """The tests of this build whose result the catalog can decide before it, and what it must
    prove for each (see the module's docstring): a not_null or primary_key test of plain
    columns of a whole relation (no `where`), counting failing rows the default way without
    storing them, on a source or on a model the build changes in place with the code it was
    last built with."""
    nodes, sources = manifest["nodes"], manifest["sources"]
    claims = {}
    for uid in build:
        test = nodes[uid]
        metadata, config = test.get("test_metadata") or {}, test["config"]
        parents = test["depends_on"]["nodes"]
        if test["resource_type"] != "test" or metadata.get("name") not in CATALOG_DECIDED or len(parents) != 1:
            continue
        if config.get("where") or config.get("store_failures") or config.get("limit") is not None:
            continue
        if any(config.get(key) != value for key, value in DEFAULT_OUTCOME.items()):
            continue
        kwargs = metadata.get("kwargs") or {}
        columns = tested_columns(kwargs)
        if not columns or not all(PLAIN_COLUMN.fullmatch(name) for name in columns):
            continue
        accepted = accepted_values(kwargs) if metadata["name"] == "accepted_values" else ()
        if accepted is None:
            continue
        (parent,) = parents
        if parent in sources:
            relation = (sources[parent]["schema"], sources[parent]["identifier"])
        else:
            model = nodes.get(parent)
            unchanged = built_with_same_code(parent, fingerprint, records, missing)
            if model is None or model["config"].get("materialized") not in IN_PLACE or not unchanged:
                continue
            relation = (model["schema"], model["alias"])
        claims[uid] = CatalogClaim(*relation, columns, CATALOG_DECIDED[metadata["name"]], accepted)
    return claims


def in_dependency_order(manifest: Mapping[str, Any], uids: Iterable[str]) -> list[str]:
    """`uids` sorted so that every node comes after the nodes it reads."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid not in seen:
            seen.add(uid)
            for parent in sorted(manifest["parent_map"].get(uid, [])):
                visit(parent)
            order.append(uid)

    for uid in sorted(manifest["nodes"]):
        visit(uid)
    wanted = set(uids)
    return [uid for uid in order if uid in wanted]


def exclude_args(manifest: Mapping[str, Any], up_to_date: Iterable[str]) -> list[str]:
    """dbt arguments leaving `up_to_date` out of a build and nothing else.

    `--indirect-selection empty`: dbt's default (eager) would also leave out every test on a
    node left out, even one whose other parent changed. Selecting the whole project or a
    folder gives the same nodes in both modes (checked with `dbt ls` on this project).
    """
    names = sorted(f"fqn:{'.'.join(manifest['nodes'][uid]['fqn'])}" for uid in up_to_date)
    # one space-separated value: dbt splits it, and dagster-dbt folds it into its own selection
    return ["--exclude", " ".join(names), "--indirect-selection", "empty"] if names else []
