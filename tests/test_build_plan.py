"""Which nodes a changed-only build leaves out (pipelines.lib.build_plan), on a hand-built manifest.

raw.a -> stg_a (view) -> tbl (table) -> on_tbl (view)
raw.b -> stg_b (view) -> inc (incremental, reads stg_a too) -> on_inc (view) -> from_on_inc (table)
                        inc -> by_day (calls a macro that calls run_date())
                        inc -> tiers (a view calling run_date())
tests: key_inc on inc; rel_tbl_inc on tbl and inc.
"""

from __future__ import annotations

import copy

import pytest

from pipelines.lib.build_plan import (
    RUN_DATE,
    CatalogClaim,
    NodeRecord,
    catalog_claims,
    exclude_args,
    fingerprints,
    in_dependency_order,
    inputs_of,
    nodes_to_build,
    scoped_tests,
    seen_inputs,
)


def model(name: str, materialized: str, parents: list[str], macros: tuple[str, ...] = ()) -> dict:
    return {
        "resource_type": "model",
        "name": name,
        "fqn": ["shop", name],
        "schema": "marts",
        "alias": name,
        "raw_code": f"select * from {' join '.join(parents)}",
        "config": {"materialized": materialized},
        "depends_on": {"nodes": parents, "macros": list(macros)},
    }


def data_test(name: str, parents: list[str]) -> dict:
    return {
        "resource_type": "test",
        "name": name,
        "fqn": ["shop", "models", name],
        "schema": "dq",
        "alias": name,
        "raw_code": "{{ test_unique(**_dbt_generic_test_kwargs) }}",
        "config": {"severity": "ERROR"},
        "test_metadata": {"name": "unique", "kwargs": {"column_name": "id"}},
        "depends_on": {"nodes": parents, "macros": []},
    }


def macro(name: str, sql: str, calls: tuple[str, ...] = (), package: str = "shop") -> dict:
    return {"name": name, "package_name": package, "macro_sql": sql, "depends_on": {"macros": list(calls)}}


NODES = {
    "model.shop.stg_a": model("stg_a", "view", ["source.shop.raw.a"]),
    "model.shop.stg_b": model("stg_b", "view", ["source.shop.raw.b"]),
    "model.shop.tbl": model("tbl", "table", ["model.shop.stg_a"]),
    "model.shop.on_tbl": model("on_tbl", "view", ["model.shop.tbl"]),
    "model.shop.inc": model("inc", "incremental", ["model.shop.stg_a", "model.shop.stg_b"]),
    "model.shop.on_inc": model("on_inc", "view", ["model.shop.inc"]),
    "model.shop.from_on_inc": model("from_on_inc", "table", ["model.shop.on_inc"]),
    "model.shop.by_day": model("by_day", "incremental", ["model.shop.inc"], ("macro.shop.window",)),
    "model.shop.tiers": model("tiers", "view", ["model.shop.inc"], ("macro.shop.run_date",)),
    "test.shop.key_inc": data_test("key_inc", ["model.shop.inc"]),
    "test.shop.rel_tbl_inc": data_test("rel_tbl_inc", ["model.shop.tbl", "model.shop.inc"]),
}
MANIFEST = {
    "metadata": {"project_name": "shop", "dbt_version": "1.11.16"},
    "sources": {
        "source.shop.raw.a": {"schema": "raw", "identifier": "a"},
        "source.shop.raw.b": {"schema": "raw", "identifier": "b"},
    },
    "macros": {
        "macro.shop.run_date": macro("run_date", "current_date"),
        "macro.shop.window": macro("window", "{{ run_date() }} - 7", ("macro.shop.run_date",)),
        "macro.dbt.is_incremental": macro("is_incremental", "...", package="dbt"),
    },
    "nodes": NODES,
    "parent_map": {uid: node["depends_on"]["nodes"] for uid, node in NODES.items()},
}
VERSIONS = {"raw.a": "2026-12-05 02:00:00+00", "raw.b": "2026-12-05 02:10:00+00", RUN_DATE: "2026-12-05"}


def built(versions=VERSIONS, manifest=MANIFEST, records=None, missing=frozenset(), follow=False) -> set[str]:
    """The names of the nodes to build, against records of a build that saw VERSIONS and MANIFEST."""
    if records is None:
        records = recorded()
    code, inputs = fingerprints(manifest), inputs_of(manifest)
    plan = nodes_to_build(manifest, code, inputs, versions, records, missing, views_follow_data=follow)
    return {uid.rsplit(".", 1)[1] for uid in plan}


def recorded(versions=VERSIONS, manifest=MANIFEST) -> dict[str, NodeRecord]:
    code, inputs = fingerprints(manifest), inputs_of(manifest)
    return {uid: NodeRecord(code[uid], seen_inputs(inputs[uid], versions)) for uid in manifest["nodes"]}


def test_inputs_are_the_raw_tables_upstream_and_the_run_date_through_macros():
    inputs = inputs_of(MANIFEST)
    assert inputs["model.shop.tbl"] == {"raw.a"}
    assert inputs["model.shop.inc"] == {"raw.a", "raw.b"}
    assert inputs["model.shop.by_day"] == {"raw.a", "raw.b", RUN_DATE}  # window() calls run_date()
    assert inputs["test.shop.rel_tbl_inc"] == {"raw.a", "raw.b"}


def test_nothing_new_builds_nothing():
    assert built() == set()


def test_a_changed_raw_table_builds_the_tables_and_tests_downstream_not_the_views():
    later = {**VERSIONS, "raw.b": "2026-12-06 02:10:00+00"}
    # on_inc: a view over a table changed in place keeps showing it
    assert built(later) == {"inc", "from_on_inc", "by_day", "key_inc", "rel_tbl_inc"}  # tiers too stays


def test_views_can_be_built_whenever_a_node_they_read_is():
    later = {**VERSIONS, "raw.b": "2026-12-06 02:10:00+00"}
    # stg_b reads only raw.b: nothing upstream of it is built, so it can stay out
    assert built(later, follow=True) == {"inc", "on_inc", "from_on_inc", "tiers", "by_day", "key_inc", "rel_tbl_inc"}


def test_nodes_come_after_what_they_read():
    wanted = ["test.shop.key_inc", "model.shop.from_on_inc", "model.shop.on_inc", "model.shop.inc"]
    order = in_dependency_order(MANIFEST, wanted)
    assert sorted(order) == sorted(wanted)
    for uid in order:
        for parent in MANIFEST["parent_map"][uid]:
            assert parent not in order or order.index(parent) < order.index(uid), (parent, uid)


def test_a_new_run_date_builds_only_what_reads_it():
    # tiers: the date is written into the view's SQL
    assert built({**VERSIONS, RUN_DATE: "2026-12-06"}) == {"by_day", "tiers"}


def test_a_table_rebuilt_takes_the_views_on_it_along():
    later = {**VERSIONS, "raw.a": "2026-12-06 02:00:00+00"}
    # tbl is dropped and recreated (DROP ... CASCADE): on_tbl must be created again
    assert built(later) == {"tbl", "on_tbl", "inc", "from_on_inc", "by_day", "key_inc", "rel_tbl_inc"}


def test_changed_code_builds_the_node_and_what_reads_it():
    edited = copy.deepcopy(MANIFEST)
    edited["nodes"]["model.shop.stg_b"]["raw_code"] += " where id is not null"
    # on_inc stays: inc changes in place (an incremental model keeps its relation); what
    # reads on_inc sees inc's new rows through it, with the same raw inputs as before
    assert built(manifest=edited) == {"stg_b", "inc", "from_on_inc", "by_day", "key_inc", "rel_tbl_inc"}
    # a project macro is shared by every node: all of them change; dbt's own macros do not count
    edited = copy.deepcopy(MANIFEST)
    edited["macros"]["macro.shop.window"]["macro_sql"] = "{{ run_date() }} - 14"
    assert built(manifest=edited) == set(n.rsplit(".", 1)[1] for n in NODES)
    edited = copy.deepcopy(MANIFEST)
    edited["macros"]["macro.dbt.is_incremental"]["macro_sql"] = "changed"
    assert built(manifest=edited) == set()
    edited = copy.deepcopy(MANIFEST)
    edited["nodes"]["test.shop.key_inc"]["test_metadata"]["kwargs"]["column_name"] = "other_id"
    assert built(manifest=edited) == {"key_inc"}


def test_a_node_without_a_record_or_a_relation_is_built_with_what_reads_it():
    records = recorded()
    del records["test.shop.key_inc"]  # failed or warned last time
    assert built(records=records) == {"key_inc"}
    records = recorded()
    del records["model.shop.tbl"]  # failed last time: what read it was skipped
    assert built(records=records) == {"tbl", "on_tbl", "rel_tbl_inc"}
    # dropped by hand: created again, and what reads it with it
    assert built(missing=frozenset({"model.shop.on_inc"})) == {"on_inc", "from_on_inc"}
    assert built(records={}) == set(n.rsplit(".", 1)[1] for n in NODES)


def test_nodes_are_left_out_by_fully_qualified_name_and_only_they():
    args = exclude_args(MANIFEST, ["test.shop.key_inc", "model.shop.tbl"])
    assert args == ["--exclude", "fqn:shop.models.key_inc fqn:shop.tbl", "--indirect-selection", "empty"]
    assert exclude_args(MANIFEST, []) == []


@pytest.mark.parametrize("field", ["config", "schema", "alias"])
def test_the_fingerprint_follows_config_and_relation(field):
    edited = copy.deepcopy(MANIFEST)
    node = edited["nodes"]["model.shop.tbl"]
    node[field] = {"materialized": "incremental"} if field == "config" else "elsewhere"
    assert fingerprints(edited)["model.shop.tbl"] != fingerprints(MANIFEST)["model.shop.tbl"]
    assert fingerprints(edited)["model.shop.inc"] == fingerprints(MANIFEST)["model.shop.inc"]


def test_a_test_that_passed_with_the_same_code_reads_only_the_rows_changed_since():
    code = fingerprints(MANIFEST)
    records = {
        "test.shop.key_inc": NodeRecord(code["test.shop.key_inc"], {}, "2026-12-05 03:00:00+00"),
        "test.shop.rel_tbl_inc": NodeRecord("an older version", {}, "2026-12-05 03:00:00+00"),
        "model.shop.inc": NodeRecord(code["model.shop.inc"], {}, "2026-12-05 03:00:00+00"),
    }
    building = ["test.shop.key_inc", "test.shop.rel_tbl_inc", "model.shop.inc"]
    # rel_tbl_inc's code changed since it passed: every row; a model has no scope
    assert scoped_tests(MANIFEST, code, records, building) == {"test.shop.key_inc": "2026-12-05 03:00:00+00"}
    # a test without a record (it failed last time) reads every row
    assert scoped_tests(MANIFEST, code, {}, building) == {}
    # and so does a test of a model built since with other code (a view logs no row it changes)
    records["model.shop.inc"] = NodeRecord("an older version", {}, "2026-12-05 03:00:00+00")
    assert scoped_tests(MANIFEST, code, records, building) == {}


def generic_test(name: str, parent: str, test: str, config: dict | None = None, **kwargs) -> dict:
    node = data_test(name, [parent])
    node["test_metadata"] = {"name": test, "kwargs": kwargs}
    node["config"] = {
        "severity": "ERROR",
        "fail_calc": "count(*)",
        "warn_if": "!= 0",
        "error_if": "!= 0",
        **(config or {}),
    }
    return node


def test_the_catalog_decides_key_not_null_non_negative_and_accepted_values_tests_of_models_changed_in_place():
    tests = {
        "test.shop.key_raw_a": generic_test("key_raw_a", "source.shop.raw.a", "primary_key", column_name="id"),
        "test.shop.not_null_inc": generic_test("not_null_inc", "model.shop.inc", "not_null", column_name="Tenant_ID"),
        "test.shop.counts_inc": generic_test("counts_inc", "model.shop.inc", "non_negative", column_name="nights"),
        "test.shop.kinds_inc": generic_test(
            "kinds_inc", "model.shop.inc", "accepted_values", column_name="kind", values=["sale", "refund"]
        ),
        "test.shop.key_inc": generic_test("key_inc", "model.shop.inc", "primary_key", columns=["tenant_id", "id"]),
        # dbt's table materialization builds a new table: the constraints of the old one say nothing
        "test.shop.key_tbl": generic_test("key_tbl", "model.shop.tbl", "primary_key", column_name="id"),
        # the catalog cannot decide these
        "test.shop.unique_inc": generic_test("unique_inc", "model.shop.inc", "unique", column_name="id"),
        "test.shop.where_inc": generic_test(
            "where_inc", "model.shop.inc", "not_null", {"where": "id > 0"}, column_name="id"
        ),
        "test.shop.warn_inc": generic_test(
            "warn_inc", "model.shop.inc", "not_null", {"warn_if": "> 10"}, column_name="id"
        ),
        "test.shop.stored_inc": generic_test(
            "stored_inc", "model.shop.inc", "not_null", {"store_failures": True}, column_name="id"
        ),
        "test.shop.expr_inc": generic_test("expr_inc", "model.shop.inc", "not_null", column_name="coalesce(a, b)"),
        # values compared unquoted, or not strings: not what the CHECK the build declares says
        "test.shop.unquoted_inc": generic_test(
            "unquoted_inc", "model.shop.inc", "accepted_values", column_name="kind", values=["a"], quote=False
        ),
        "test.shop.numbers_inc": generic_test(
            "numbers_inc", "model.shop.inc", "accepted_values", column_name="grade", values=[1, 2]
        ),
    }
    manifest = copy.deepcopy(MANIFEST)
    manifest["nodes"].update(tests)
    code = fingerprints(manifest)
    records = recorded(manifest=manifest)
    claims = catalog_claims(manifest, code, records, frozenset(), [*tests, "model.shop.inc"])
    assert claims == {
        "test.shop.key_raw_a": CatalogClaim("raw", "a", ("id",), ("not_null", "unique")),
        "test.shop.not_null_inc": CatalogClaim("marts", "inc", ("tenant_id",), ("not_null",)),
        "test.shop.key_inc": CatalogClaim("marts", "inc", ("tenant_id", "id"), ("not_null", "unique")),
        "test.shop.counts_inc": CatalogClaim("marts", "inc", ("nights",), ("non_negative",)),
        "test.shop.kinds_inc": CatalogClaim("marts", "inc", ("kind",), ("accepted_values",), ("sale", "refund")),
    }
    # a model whose code changed, or whose relation is missing, may be built another way
    records["model.shop.inc"] = NodeRecord("an older version", records["model.shop.inc"].inputs)
    assert set(catalog_claims(manifest, code, records, frozenset(), tests)) == {"test.shop.key_raw_a"}
    records = recorded(manifest=manifest)
    missing = frozenset({"model.shop.inc"})
    assert set(catalog_claims(manifest, code, records, missing, tests)) == {"test.shop.key_raw_a"}
