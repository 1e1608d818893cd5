"""rpt_finance_daily re-derives only the days whose figures can have changed
(dbt_project/macros/finance/daily_changes.sql): after nights of payments, refunds and
invoices, and of entries moving from the live ledger to the archive, the table a nightly
build leaves equals the one a full rebuild computes from scratch.
"""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest

from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all
from pipelines.source.generate import generate
from pipelines.source.simulate import simulate

REFERENCE_DATE = dt.date(2026, 6, 30)
FINANCE = "+rpt_finance_daily"
TABLE = "reporting.rpt_finance_daily"


@pytest.fixture(scope="module")
def warehouse(make_database, tmp_path_factory):
    ops, url = make_database("fd_ops"), make_database("fd_wh")
    target = tmp_path_factory.mktemp("dbt_finance_daily")
    generate(ops, scale=0.01, seed=9, reference_date=REFERENCE_DATE)
    load_all(ops, url)
    state = {"ops": ops, "url": url, "target": target, "run_date": REFERENCE_DATE}
    build(state, REFERENCE_DATE)
    return state


def build(state, run_date: dt.date, select: str = FINANCE, full_refresh: bool = False):
    state["run_date"] = run_date
    return dbt_build(
        state["url"], select=select, vars={"run_date": run_date.isoformat()},
        target_path=state["target"], full_refresh=full_refresh,
    )  # fmt: skip


def rows(url: str) -> set[tuple]:
    with psycopg.connect(url) as conn:
        return set(conn.execute(f"select * from {TABLE}").fetchall())


def only_changed_days(state) -> bool:
    """Whether the last build re-derived only the changed days (else every day)."""
    results = json.loads((state["target"] / "run_results.json").read_text())["results"]
    code = next(r["compiled_code"] for r in results if r["unique_id"].endswith(".rpt_finance_daily"))
    return "changed_days" in code


def archived(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from archive.financial_transactions").fetchone()[0]


def test_nights_of_payments_and_archiving_equal_a_full_rebuild(warehouse):
    url = warehouse["url"]
    for _ in range(2):
        simulate(warehouse["ops"], days=1)  # invoices issued, payments, refunds, late changes
        load_all(warehouse["ops"], url)
        before = archived(url)
        build(warehouse, warehouse["run_date"] + dt.timedelta(days=1))
        assert only_changed_days(warehouse)
        assert archived(url) > before  # a day more of the ledger moved from live to the archive
        nightly = rows(url)
        build(warehouse, warehouse["run_date"], select="rpt_finance_daily", full_refresh=True)
        assert not only_changed_days(warehouse)
        rebuilt = rows(url)
        assert nightly == rebuilt, (sorted(nightly - rebuilt)[:3], sorted(rebuilt - nightly)[:3])
