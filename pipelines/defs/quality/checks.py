"""The bridge: each GX suite runs as a Dagster asset check on the asset it validates.

One multi-asset check per layer (raw, marts, reporting) holds one check spec per suite
and can run any subset of them, so a run that materializes three raw tables validates
those three and opens the GX context once. ERROR suites are blocking: when one fails,
Dagster does not materialize the assets downstream of the checked asset in that run.
"""

# No `from __future__ import annotations` here: Dagster reads the `context` annotation
# of the check function at definition time.
from collections.abc import Iterator, Sequence

import dagster as dg

from expectations.catalog import LAYERS, suites_for
from expectations.checks import Severity, Suite
from expectations.results import ExpectationOutcome
from expectations.runner import SuiteOutcome, run_suites
from pipelines.defs.resources import PostgresResource
from pipelines.defs.transform.assets import MODELS_POOL

DAGSTER_SEVERITY = {Severity.WARNING: dg.AssetCheckSeverity.WARN, Severity.ERROR: dg.AssetCheckSeverity.ERROR}


def relation_asset_key(relation: str) -> dg.AssetKey:
    """The asset that owns a warehouse relation: [schema, table], for raw tables and dbt models alike."""
    return dg.AssetKey(relation.split(".", 1))


def check_spec(suite: Suite) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=suite.concern,
        asset=relation_asset_key(suite.relation),
        blocking=suite.severity is Severity.ERROR,
        description=f"{suite.severity.value}: " + "; ".join(check.name for check in suite.checks),
    )


def check_result(outcome: SuiteOutcome) -> dg.AssetCheckResult:
    """Failed when any expectation failed; metadata has each count and up to 20 sample rows."""
    metadata: dict[str, dg.MetadataValue] = {}
    for expectation in outcome.outcomes:
        metadata[f"{expectation.expectation}.unexpected_count"] = _count(expectation)
        if expectation.sample:
            metadata[f"{expectation.expectation}.sample"] = dg.MetadataValue.json(_jsonable(expectation.sample))
        if expectation.error:
            metadata[f"{expectation.expectation}.error"] = dg.MetadataValue.text(expectation.error)
    docs_url = next((e.data_docs_url for e in outcome.outcomes if e.data_docs_url), None)
    if docs_url:
        metadata["data_docs"] = dg.MetadataValue.url(docs_url)
    failed = ", ".join(e.expectation for e in outcome.failed)
    return dg.AssetCheckResult(
        asset_key=relation_asset_key(outcome.suite.relation),
        check_name=outcome.suite.concern,
        passed=outcome.success,
        severity=DAGSTER_SEVERITY[outcome.suite.severity],
        metadata=metadata,
        description=f"failed: {failed}" if failed else "all expectations met",
    )


def build_layer_checks(layer: str, suites: Sequence[Suite]) -> dg.AssetChecksDefinition:
    by_key = {dg.AssetCheckKey(relation_asset_key(s.relation), s.concern): s for s in suites}

    @dg.multi_asset_check(
        name=f"gx_{layer}",
        specs=[check_spec(suite) for suite in suites],
        can_subset=True,
        pool=MODELS_POOL,
        description=f"Great Expectations suites on the {layer} layer",
    )
    def _checks(
        context: dg.AssetCheckExecutionContext, warehouse_db: PostgresResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = [by_key[key] for key in by_key if key in context.selected_asset_check_keys]
        run = run_suites(warehouse_db.url(), selected, run_id=context.run.run_id, checkpoint=f"dagster_{layer}")
        context.log.info(f"{len(selected)} suites validated; Data Docs: {run.data_docs_index}")
        for outcome in run.suites:
            yield check_result(outcome)

    return _checks


def _count(expectation: ExpectationOutcome) -> dg.MetadataValue:
    if expectation.unexpected_count is None:
        return dg.MetadataValue.text("not computed")
    return dg.MetadataValue.int(expectation.unexpected_count)


def _jsonable(rows: list[dict]) -> list[dict]:
    """Sample rows for JSON metadata: uuids, dates and decimals as text."""
    plain = int | float | bool | str | type(None)
    return [{key: value if isinstance(value, plain) else str(value) for key, value in row.items()} for row in rows]


LAYER_CHECKS = [build_layer_checks(layer, suites) for layer in LAYERS if (suites := suites_for(layer))]
