"""Every dbt model as a Dagster asset, every dbt test as an asset check, one `dbt build` per run.

The graph reads raw/<table> (the extraction assets) -> staging/* -> intermediate/* -> marts/*
-> reporting/*: a dbt source maps to the raw asset of its table, a model to [schema, name],
and its group is its schema, which the generate_schema_name macro chose from its folder
(pipelines.lib.dbt.group_name: the one rule).
"""

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import get_asset_check_key_for_test

from pipelines.defs.resources import PostgresResource
from pipelines.lib.build_plan import in_dependency_order
from pipelines.lib.build_state import plan_build
from pipelines.lib.dbt import DBT_PROJECT_DIR, build_command, dbt_env, group_name, keep_parse_state, prepare_manifest

# Parsed at load time when the dbt project changed since the last parse (no database needed).
MANIFEST = prepare_manifest()


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys and groups of dbt nodes, from the manifest alone."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return group_name(dbt_resource_props)


class DbtBuildConfig(dg.Config):
    """Run options of a dbt build (the same as `warehouse dbt build`)."""

    run_date: str = ""  # ISO date; empty means today
    full_refresh: bool = False
    # Leave out the nodes with nothing new to read (pipelines.lib.build_plan); false builds all.
    changed_only: bool = True


def build_args(config: DbtBuildConfig) -> list[str]:
    """The `dbt build` arguments of one run (the run date goes through dbt_env; no unit tests)."""
    return [*build_command(["build"]), *(["--full-refresh"] if config.full_refresh else [])]


# Reporting models are a step of their own, after the marts: the blocking data-quality
# checks on the marts (pipelines/defs/quality) then run between the two, so a failed
# check stops reporting in that run. The price is two `dbt build` invocations per full run.
REPORTING = "path:dbt_project/models/reporting"
# Every step that writes the modelled schemas (both dbt steps, the checks writing dq)
# shares one pool, so two runs never build the same schema at once.
MODELS_POOL = "warehouse_models"


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse_db: PostgresResource, config):
    url = warehouse_db.url()
    # Changed only, every view reading a node dbt builds is built too: the outputs of one step
    # must come in dependency order, and those left out are yielded before dbt's, so none of
    # them may read a node dbt builds.
    changed_only = config.changed_only and not config.full_refresh
    plan = plan_build(url, config.run_date, MANIFEST if changed_only else None, views_follow_data=True)
    if plan.up_to_date:
        context.log.info(f"changed only: {len(plan.up_to_date)} dbt nodes up to date, left out of this build")
    if plan.manifest is not None:
        yield from up_to_date_events(context, plan.manifest, plan.up_to_date - plan.proven)
    if plan.builds_nothing:
        context.log.info("changed only: every dbt node is up to date, dbt not started")
    else:
        yield from _dbt_build_step(context, dbt, url, config, plan)
    if plan.manifest is not None:  # after the build of the tables they test, which kept the constraints
        yield from up_to_date_events(context, plan.manifest, plan.proven, PROVEN)


def _dbt_build_step(context: dg.AssetExecutionContext, dbt: DbtCliResource, url: str, config, plan):
    """dbt's build of the nodes the plan keeps, its events streamed, what succeeded recorded."""
    # dagster-dbt selects the chosen subset itself; the connection reaches dbt's
    # subprocess through the environment only while it runs.
    with dbt_env(url, config.run_date):
        invocation = dbt.cli([*build_args(config), *plan.dbt_args], context=context)
        try:
            yield from invocation.stream()
        finally:
            # dbt writes run_results.json once it has run nodes, and the manifest they were built from
            if (invocation.target_path / "run_results.json").exists():
                results = invocation.get_artifact("run_results.json")["results"]
                outcome = [(result["unique_id"], result["status"]) for result in results]
                plan.record(invocation.target_path / "manifest.json", outcome)
            keep_parse_state(invocation.target_path)


UP_TO_DATE = {"kennelworks/up_to_date": "not rebuilt: its code and inputs are those of its last successful build"}
PROVEN = {"kennelworks/proven": "not run: the catalog guarantees it passes (NOT NULL columns, a unique key index)"}


def up_to_date_events(
    context: dg.AssetExecutionContext,
    manifest: Mapping[str, Any],
    up_to_date: set[str],
    metadata: Mapping[str, str] = UP_TO_DATE,
):
    """A materialization for each selected model left out, a passed check for each test, in
    dependency order.

    Their data is current: leaving an output unyielded would make Dagster skip every later
    step reading it (the reporting step after the marts) and mark the asset as failed.
    """
    translator = WarehouseTranslator()
    for uid in in_dependency_order(manifest, up_to_date):
        node = manifest["nodes"][uid]
        if node["resource_type"] == "model":
            key = translator.get_asset_key(node)
            if key in context.selected_asset_keys:
                yield dg.Output(None, output_name=key.to_python_identifier(), metadata=metadata)
        else:
            # dagster-dbt's own rule from a test to its check (the attached node, or meta.dagster.ref)
            check = get_asset_check_key_for_test(manifest, translator, uid, None)
            if check is not None and check in context.selected_asset_check_keys:
                yield dg.AssetCheckResult(
                    asset_key=check.asset_key, check_name=check.name, passed=True, metadata=metadata
                )


@dbt_assets(
    manifest=MANIFEST,
    dagster_dbt_translator=WarehouseTranslator(),
    name="warehouse_dbt_models",
    exclude=REPORTING,
    pool=MODELS_POOL,
)
def warehouse_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse_db: PostgresResource,
    config: DbtBuildConfig,
):
    yield from _build(context, dbt, warehouse_db, config)


@dbt_assets(
    manifest=MANIFEST,
    dagster_dbt_translator=WarehouseTranslator(),
    name="reporting_dbt_models",
    select=REPORTING,
    pool=MODELS_POOL,
)
def reporting_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse_db: PostgresResource,
    config: DbtBuildConfig,
):
    yield from _build(context, dbt, warehouse_db, config)


DBT_ASSETS = [warehouse_dbt_models, reporting_dbt_models]


# The dbt of this interpreter's environment, whether or not its bin/ is on PATH: dbt's own
# command line, with the garbage collector paused and a quick `--version` (pipelines.lib.dbt_executable).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "kennelworks-dbt")

DBT_RESOURCES = {
    "dbt": DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE
    )
}
