"""rpt_finance_daily re-derives only the days whose figures can have changed
(dbt_project/macros/finance/daily_changes.sql): after nights of payments, refunds and
invoices, and of entries moving from the live ledger to the archive, the table a nightly
build leaves equals the one a full rebuild computes from scratch.
"""

from __future__ import annotations

import datetime as dt

import pytest
from nightly_builds import build, compiled_code, day_of_traffic, fetch, rows_of, small_warehouse

REFERENCE_DATE = dt.date(2026, 6, 30)
TABLE = "reporting.rpt_finance_daily"


@pytest.fixture(scope="module")
def warehouse(make_database, tmp_path_factory):
    return small_warehouse(make_database, tmp_path_factory, "fd", 9, REFERENCE_DATE, "+rpt_finance_daily")


def only_changed_days(state) -> bool:
    """Whether the last build re-derived only the changed days (else every day)."""
    return "changed_days" in compiled_code(state, "rpt_finance_daily")


def archived(url: str) -> int:
    return fetch(url, "select count(*) from archive.financial_transactions")[0][0]


def test_nights_of_payments_and_archiving_equal_a_full_rebuild(warehouse):
    url = warehouse["url"]
    for _ in range(2):
        day_of_traffic(warehouse)  # invoices issued, payments, refunds, late changes
        before = archived(url)
        build(warehouse, warehouse["run_date"] + dt.timedelta(days=1))
        assert only_changed_days(warehouse)
        assert archived(url) > before  # a day more of the ledger moved from live to the archive
        nightly = rows_of(url, TABLE)
        build(warehouse, warehouse["run_date"], select="rpt_finance_daily", full_refresh=True)
        assert not only_changed_days(warehouse)
        rebuilt = rows_of(url, TABLE)
        assert nightly == rebuilt, (sorted(nightly - rebuilt)[:3], sorted(rebuilt - nightly)[:3])
