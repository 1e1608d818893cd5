"""Finance and engagement models on generated data, checked against the generator's manifest.

The generator (scale 0.01) injects anomalies and records exactly which rows it touched; the
billing and engagement models must find those rows, and only those, where they concern them:
drifted stats in rpt_stats_reconciliation, negative payments and orphaned activities in
dq.quarantined_rows. Conservation holds on the whole data set: raw = mart + quarantine, and
live + archive = ledger in rows and cents.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all
from pipelines.source.generate import generate

RUN_DATE = dt.date(2026, 11, 1)
MODELS = [
    "+rpt_finance_monthly",
    "+fct_invoices",
    "+rpt_stats_reconciliation",
    "+rpt_leaderboard_customers",
    "+fct_payments",
    "+fct_refunds",
    "+quarantined_rows",
]


def fetch(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def databases(make_database, tmp_path_factory):
    ops_url, warehouse_url = make_database("ops"), make_database("warehouse")
    manifest = tmp_path_factory.mktemp("manifest") / "manifest.json"
    generate(ops_url, scale=0.01, seed=23, reference_date=RUN_DATE, manifest_path=manifest)
    load_all(ops_url, warehouse_url)
    target = tmp_path_factory.mktemp("dbt_target")
    dbt_build(warehouse_url, MODELS, {"run_date": RUN_DATE.isoformat()}, target_path=target)
    return ops_url, warehouse_url


def injected(ops_url: str, *anomalies: str) -> set[tuple[str, str]]:
    """(table, key) of the rows the generator injected with these anomalies."""
    rows = fetch(
        ops_url,
        "select table_name, record_key::text from generator.anomalies where anomaly = any(%s)",
        [list(anomalies)],
    )
    return set(rows)


def test_stats_reconciliation_lists_exactly_the_injected_drifts(databases):
    ops_url, warehouse_url = databases
    expected = {
        ("customer" if table == "customer_stats" else "team", key)
        for table, key in injected(ops_url, "drifted_customer_stats", "drifted_team_progress")
    }
    assert expected
    listed = set(fetch(warehouse_url, "select entity, entity_id::text from reporting.rpt_stats_reconciliation"))
    assert listed == expected


def test_injected_negative_payments_and_orphan_activities_are_quarantined(databases):
    ops_url, warehouse_url = databases
    quarantined = dict(
        ((table, key), reason)
        for table, key, reason in fetch(
            warehouse_url,
            "select source_table, record_key, reason from dq.quarantined_rows "
            "where source_table in ('payments', 'activities')",
        )
    )
    for row in injected(ops_url, "negative_amount"):
        assert quarantined[row] == "invalid: negative amount_cents"
    for row in injected(ops_url, "orphan_activity_customer"):
        assert quarantined[row] == "orphan: customer missing"


@pytest.mark.parametrize(
    ("table", "mart"),
    [("invoices", "marts.fct_invoices"), ("payments", "marts.fct_payments"), ("activities", "marts.fct_activities")],
)
def test_raw_equals_mart_plus_quarantine(databases, table, mart):
    _, warehouse_url = databases
    (raw,) = fetch(warehouse_url, f"select count(*) from raw.{table}")[0]
    (in_mart,) = fetch(warehouse_url, f"select count(*) from {mart}")[0]
    (quarantined,) = fetch(warehouse_url, "select count(*) from dq.quarantined_rows where source_table = %s", [table])[
        0
    ]
    assert raw == in_mart + quarantined
    assert in_mart > 0


def test_live_plus_archive_equals_ledger_in_rows_and_cents(databases):
    _, warehouse_url = databases
    totals = "select count(*), coalesce(sum(amount_cents), 0) from {}"
    ledger = fetch(warehouse_url, totals.format("intermediate.int_financial_transactions"))[0]
    live = fetch(warehouse_url, totals.format("marts.fct_financial_transactions"))[0]
    archive = fetch(warehouse_url, totals.format("archive.financial_transactions"))[0]
    assert archive[0] > 0 and live[0] > 0
    assert (live[0] + archive[0], live[1] + archive[1]) == ledger


def test_monthly_totals_equal_the_ledger(databases):
    _, warehouse_url = databases
    monthly = fetch(
        warehouse_url,
        "select sum(invoiced_cents), sum(collected_cents), sum(refunded_cents) from reporting.rpt_finance_monthly",
    )[0]
    ledger = fetch(
        warehouse_url,
        "select sum(amount_cents) filter (where kind = 'charge'), sum(amount_cents) filter (where kind = 'payment'), "
        "-sum(amount_cents) filter (where kind = 'refund') from intermediate.int_financial_transactions",
    )[0]
    assert monthly == ledger


def test_a_mart_is_analyzed_after_a_rebuild_and_not_after_a_patch_that_changed_nothing(databases, tmp_path):
    """kw_analyze samples a table when its rows changed as much as autovacuum waits for (the
    first build and a --full-refresh wrote every row), not after a patch that changed nothing:
    its statistics still describe it, and sampling the big marts every night cost seconds.
    analyze_count counts manual ANALYZEs only, so autovacuum cannot make this pass or fail."""
    _, warehouse_url = databases
    analyzed = "select analyze_count from pg_stat_user_tables where relid = 'marts.fct_payments'::regclass"
    before = fetch(warehouse_url, analyzed)[0][0]
    assert before >= 1
    run = {"run_date": RUN_DATE.isoformat()}
    dbt_build(warehouse_url, "fct_payments", run, target_path=tmp_path)
    comment = fetch(warehouse_url, "select obj_description('marts.fct_payments'::regclass)")[0][0]
    assert "patched keys=0" in comment
    assert fetch(warehouse_url, analyzed)[0][0] == before
    dbt_build(warehouse_url, "fct_payments", run, full_refresh=True, target_path=tmp_path)
    assert fetch(warehouse_url, analyzed)[0][0] == before + 1
