"""Run suites through Great Expectations and keep what they found.

`run_suites` turns each `Suite` into a GX expectation suite and validation definition on
a table asset of the warehouse datasource, runs them all in one checkpoint, stores the
validation results in the GX file context under `expectations/gx/` and rebuilds its Data
Docs from them, and appends every outcome to `dq.validation_results`.

Guarantees:
- the warehouse password never reaches a file: the datasource's connection string is
  the config variable `${KENNELWORKS_GX_WAREHOUSE_URL}`, set in this process only;
- a failed expectation is a failed outcome, never a silent pass: GX does not raise when
  validation fails, so success is read from each result, and a query that errors counts
  as a failure carrying the error message;
- unexpected counts are exact (the count query is not capped); at most 20 sample rows
  are kept per expectation;
- GX's own store keeps the newest KEEP_RUNS validations of each suite, with their Data Docs
  pages: the whole history is in `dq.validation_results` (whose links to pruned pages are
  cleared), and GX rebuilds the Data Docs index from every stored validation, which grew by
  65 each nightly run (one run's pages 0.5 s with 65 stored, 4.7 s with 1,464).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from expectations.checks import Check, Severity, Suite
from expectations.results import SAMPLE_ROWS, ExpectationOutcome, ensure_results_table, forget_pages, record_outcomes
from pipelines.lib.databases import sqlalchemy_url
from pipelines.lib.file_lock import exclusive
from pipelines.settings import PROJECT_ROOT

GX_PROJECT_ROOT = PROJECT_ROOT / "expectations"  # GX keeps its file context in <root>/gx
DATASOURCE = "warehouse"
URL_VARIABLE = "KENNELWORKS_GX_WAREHOUSE_URL"
BATCH_DEFINITION = "whole_table"
GX_SEVERITY = {Severity.WARNING: "warning", Severity.ERROR: "critical"}
KEEP_RUNS = 7  # validations of each suite GX keeps, with their Data Docs pages (see above)

# COMPLETE keeps the sample rows in the result (see expectations/unexpected_rows.py for
# how the count stays exact while at most 20 rows are fetched).
RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_ROWS}


@dataclass(frozen=True)
class SuiteOutcome:
    suite: Suite
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def success(self) -> bool:
        return all(outcome.success for outcome in self.outcomes)

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(outcome for outcome in self.outcomes if not outcome.success)


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    suites: tuple[SuiteOutcome, ...]
    data_docs_index: str | None

    @property
    def success(self) -> bool:
        return all(suite.success for suite in self.suites)

    def for_suite(self, name: str) -> SuiteOutcome:
        return next(outcome for outcome in self.suites if outcome.suite.name == name)

    def outcome(self, expectation: str) -> list[ExpectationOutcome]:
        """Every outcome of the expectation named `expectation` (one per suite that has it)."""
        return [o for suite in self.suites for o in suite.outcomes if o.expectation == expectation]


def run_suites(
    warehouse_url: str,
    suites: Sequence[Suite],
    *,
    run_id: str | None = None,
    checkpoint: str = "kennelworks",
    gx_project_root: Path = GX_PROJECT_ROOT,
    keep_runs: int = KEEP_RUNS,
) -> RunOutcome:
    """Validate `suites` against the warehouse, record the outcomes, rebuild the Data Docs."""
    import great_expectations as gx

    run_id = run_id or uuid.uuid4().hex
    ensure_results_table(warehouse_url)
    os.environ[URL_VARIABLE] = sqlalchemy_url(warehouse_url)
    # GX prints (to stdout) a warning for every query that does not read {batch}; the
    # volume checks read meta.load_log on purpose and say so in their description.
    with contextlib.redirect_stdout(io.StringIO()):
        validator = _validation_context()
        definitions = [_validation_definition(validator, suite) for suite in suites]
        runner = validator.checkpoints.add(
            gx.Checkpoint(name=checkpoint, validation_definitions=definitions, result_format=RESULT_FORMAT)
        )
        result = runner.run(run_id=gx.RunIdentifier(run_name=run_id))
        by_suite = {
            validation.suite_name: (identifier, validation) for identifier, validation in result.run_results.items()
        }
        with exclusive(gx_project_root / "gx" / "uncommitted", "data-docs"):  # parallel runs write one site
            docs = open_context(gx_project_root)
            for identifier, validation in by_suite.values():
                docs.validation_results_store.set(identifier, validation)
            pruned_pages = _prune_store(docs, keep_runs)
            docs.build_data_docs(resource_identifiers=[identifier for identifier, _ in by_suite.values()])
    suite_outcomes = []
    for suite in suites:
        identifier, validation = by_suite[suite.name]
        docs_url = _docs_url(docs, identifier)
        suite_outcomes.append(SuiteOutcome(suite, tuple(_outcomes(suite, validation, docs_url))))
    record_outcomes(warehouse_url, run_id, [o for suite in suite_outcomes for o in suite.outcomes])
    forget_pages(warehouse_url, pruned_pages)
    return RunOutcome(run_id, tuple(suite_outcomes), _docs_url(docs, None))


def _prune_store(docs, keep_runs: int) -> list[str]:
    """Remove all but the newest `keep_runs` validations of each suite from GX's store, and
    their Data Docs pages; returns the removed pages' URLs."""
    by_suite = defaultdict(list)
    for key in docs.validation_results_store.list_keys():
        by_suite[key.expectation_suite_identifier.name].append(key)
    pages = []
    for keys in by_suite.values():
        keys.sort(key=lambda key: (key.run_id.run_time, key.run_id.run_name))
        for key in keys[: max(len(keys) - keep_runs, 0)]:
            page = _docs_url(docs, key)
            if page and page.startswith("file://"):
                Path(page.removeprefix("file://")).unlink(missing_ok=True)
                pages.append(page)
            docs.validation_results_store.remove_key(key)
    return pages


def open_context(gx_project_root: Path = GX_PROJECT_ROOT):
    """The GX file context under `<root>/gx`: validation results and Data Docs live here.

    It holds no datasource, so nothing about the warehouse, let alone its password, is
    ever written to its files.
    """
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return gx.get_context(mode="file", project_root_dir=gx_project_root)


def _validation_context():
    """An in-memory GX context that runs the suites (rebuilt from code on every run).

    Suites, validation definitions and the checkpoint live only in memory: the file
    context re-reads and re-writes its YAML and JSON stores on every access, which cost
    more than the validations themselves. The datasource's connection string is the
    variable ${KENNELWORKS_GX_WAREHOUSE_URL}, resolved from this process's environment.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.data_sources.add_postgres(DATASOURCE, connection_string="${" + URL_VARIABLE + "}")
    return context


def _validation_definition(context, suite: Suite):
    """The suite as GX expectations, bound to a whole-table batch of the relation it validates."""
    import great_expectations as gx

    datasource = context.data_sources.get(DATASOURCE)
    try:
        asset = datasource.get_asset(suite.relation)
        batch = asset.get_batch_definition(BATCH_DEFINITION)
    except LookupError:
        asset = datasource.add_table_asset(suite.relation, table_name=suite.table, schema_name=suite.schema)
        batch = asset.add_batch_definition_whole_table(BATCH_DEFINITION)
    expectations = [_expectation(check, suite.severity) for check in suite.checks]
    expectation_suite = context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=expectations))
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=expectation_suite)
    )


def _expectation(check: Check, severity: Severity):
    from expectations.unexpected_rows import CountedUnexpectedRowsExpectation, FlaggedRowsExpectation, counted

    common = {
        "description": f"{check.name}: {check.description}",
        "severity": GX_SEVERITY[severity],
        "meta": {"name": check.name, "severity": severity.value},
    }
    if check.shared_query:
        return FlaggedRowsExpectation(unexpected_rows_query=check.shared_query, flag=check.name, **common)
    return CountedUnexpectedRowsExpectation(unexpected_rows_query=counted(check.query), **common)


def _outcomes(suite: Suite, validation, docs_url: str | None) -> list[ExpectationOutcome]:
    outcomes = []
    by_name = {result.expectation_config.meta["name"]: result for result in validation.results}
    for check in suite.checks:
        result = by_name.get(check.name)
        if result is None:  # never silently pass an expectation GX did not report
            outcomes.append(_failed(suite, check.name, "GX returned no result for this expectation", docs_url))
            continue
        exception = result.exception_info or {}
        raised = exception.get("raised_exception") or any(
            isinstance(info, dict) and info.get("raised_exception") for info in exception.values()
        )
        if raised:
            outcomes.append(_failed(suite, check.name, _exception_message(exception), docs_url))
            continue
        observed = result.result.get("observed_value")
        rows = (result.result.get("details") or {}).get("unexpected_rows") or []
        outcomes.append(
            ExpectationOutcome(
                suite=suite.name,
                relation=suite.relation,
                expectation=check.name,
                severity=suite.severity.value,
                success=bool(result.success),
                observed_value=observed,
                unexpected_count=int(observed) if isinstance(observed, int) else result.result.get("unexpected_count"),
                sample=[dict(row) for row in rows[:SAMPLE_ROWS]],
                data_docs_url=docs_url,
            )
        )
    return outcomes


def _failed(suite: Suite, expectation: str, error: str, docs_url: str | None) -> ExpectationOutcome:
    return ExpectationOutcome(
        suite=suite.name,
        relation=suite.relation,
        expectation=expectation,
        severity=suite.severity.value,
        success=False,
        error=error,
        data_docs_url=docs_url,
    )


def _exception_message(exception_info: dict) -> str:
    if exception_info.get("exception_message"):
        return str(exception_info["exception_message"]).strip().splitlines()[0]
    for info in exception_info.values():
        if isinstance(info, dict) and info.get("exception_message"):
            return str(info["exception_message"]).strip().splitlines()[0]
    return "the expectation raised an error"


def _docs_url(context, identifier) -> str | None:
    for site in context.get_docs_sites_urls(resource_identifier=identifier):
        if site.get("site_url"):
            return site["site_url"]
    return None
