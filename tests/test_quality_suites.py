"""The suites as declared (no database): names, severities, the Dagster graph, the report page."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import dagster as dg

from expectations.catalog import all_suites, suites_for
from expectations.checks import LAYERS, Severity
from expectations.relations import ORPHAN_REFERENCES
from pipelines.defs.quality.checks import LAYER_CHECKS, relation_asset_key
from pipelines.lib.quality_report import render_html, summary_rows


def test_every_cross_context_relation_has_one_orphan_expectation_named_after_it():
    names = [check.name for suite in suites_for("raw") if suite.concern == "orphans" for check in suite.checks]
    assert sorted(names) == sorted(
        [
            "orphan_pet_customer",
            "orphan_reservation_pet",
            "orphan_reservation_customer",
            "orphan_reservation_resource",
            "orphan_reservation_service",
            "orphan_invoice_customer",
            "orphan_invoice_reservation",
            "orphan_activity_customer",
            "orphan_activity_team",
            "orphan_team_member_team",
            "orphan_team_member_customer",
            "orphan_customer_stats_customer",
            "orphan_customer_achievement_customer",
        ]
    )
    assert len(ORPHAN_REFERENCES) == len(names)


def test_raw_suites_warn_and_mart_and_reporting_suites_must_be_zero():
    for layer in LAYERS:
        expected = Severity.WARNING if layer == "raw" else Severity.ERROR
        suites = suites_for(layer)
        assert suites, layer
        assert {suite.severity for suite in suites} == {expected}, layer
        assert all(suite.schema == layer for suite in suites), layer


def test_suite_and_expectation_names_are_unique():
    suites = all_suites()
    assert len({suite.name for suite in suites}) == len(suites)
    for suite in suites:
        counts = Counter(check.name for check in suite.checks)
        assert max(counts.values()) == 1, suite.name
        assert all("{batch}" in check.query or suite.concern == "volume_drift" for check in suite.checks)


def test_error_suites_are_blocking_checks_on_the_asset_they_validate():
    specs = {spec.key: spec for checks in LAYER_CHECKS for spec in checks.check_specs}
    suites = all_suites()
    assert len(specs) == len(suites)
    for suite in suites:
        spec = specs[dg.AssetCheckKey(relation_asset_key(suite.relation), suite.concern)]
        assert spec.blocking == (suite.severity is Severity.ERROR)
    assert relation_asset_key("raw.pets") == dg.AssetKey(["raw", "pets"])


def test_report_lists_failures_first_and_links_each_suite_to_its_data_docs_page():
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    results = [
        _row("orphans.raw.pets", "orphan_pet_customer", "warning", True, 0),
        _row("orphans.marts.dim_pets", "orphan_pet_customer", "error", False, 3, url="file:///docs/a&b.html"),
        _row("orphans.raw.reservations", "orphan_reservation_pet", "warning", False, 1200),
    ]
    rows = summary_rows(results)
    assert [row[3] for row in rows] == ["failed", "warning", "passed"]
    assert rows[1][4] == "1,200"

    page = render_html(results, when)
    assert '<a href="file:///docs/a&amp;b.html">orphans.marts.dim_pets</a>' in page
    assert "1 passed, 1 warning, 1 failed, 0 error" in page


def _row(suite, expectation, severity, success, count, url=None):
    return {
        "suite": suite,
        "expectation": expectation,
        "severity": severity,
        "success": success,
        "unexpected_count": count,
        "error": None,
        "data_docs_url": url,
        "checked_at": datetime(2026, 3, 1, 11, tzinfo=UTC),
    }


def test_every_check_targets_an_asset_of_the_warehouse_graph():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    targets = {spec.asset_key for checks in LAYER_CHECKS for spec in checks.check_specs}
    assert targets - keys == set()
    # the reporting relations analysts read sit downstream of the blocking mart checks
    calendar = dg.AssetKey(["reporting", "rpt_reservation_calendar"])
    assert dg.AssetKey(["marts", "fct_reservation_history"]) in graph.get(calendar).parent_keys
