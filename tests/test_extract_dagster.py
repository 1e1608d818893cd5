"""The raw assets through Dagster: `warehouse extract`, materialization metadata, retry policy."""

from __future__ import annotations

import dagster as dg
import pytest
from extract_support import assert_raw_matches_source, databases, empty_pair, execute, seed_source  # noqa: F401 (fixtures)

from pipelines.cli import main as warehouse_cli
from pipelines.defs.ingestion.assets import RAW_ASSETS
from pipelines.defs.ingestion.run import extract
from pipelines.lib.extract import REGISTRY
from pipelines.settings import get_settings


@pytest.fixture()
def urls(empty_pair, monkeypatch):  # noqa: F811
    """Point the settings (and so the ops_db/warehouse_db resources) at fresh databases."""
    ops, warehouse = empty_pair
    seed_source(ops, customers=30)
    monkeypatch.setenv("OPS_DATABASE_URL", ops)
    monkeypatch.setenv("WAREHOUSE_DATABASE_URL", warehouse)
    monkeypatch.setenv("DAGSTER_DATABASE_URL", warehouse)  # unused: extract runs on an ephemeral instance
    get_settings.cache_clear()
    yield ops, warehouse
    get_settings.cache_clear()


def test_one_asset_per_source_table_in_group_raw():
    keys = {key for asset in RAW_ASSETS for key in asset.keys}
    assert keys == {dg.AssetKey(["raw", table]) for table in REGISTRY}
    assert {asset.group_names_by_key[key] for asset in RAW_ASSETS for key in asset.keys} == {"raw"}
    assert all(asset.op.retry_policy is not None for asset in RAW_ASSETS)


def test_warehouse_extract_lands_the_chosen_tables_with_a_line_each(urls, capsys):
    ops, warehouse = urls

    assert warehouse_cli(["extract", "--table", "tenants", "--table", "reservations"]) == 0

    out = capsys.readouterr().out
    assert "***@" in out and get_settings().ops_url.split("@")[0] not in out  # the password is masked
    assert "raw.tenants: full, 2 read, 2 inserted" in out
    assert "raw.reservations: full," in out
    assert "raw.customers" not in out
    for table in ("tenants", "reservations"):
        assert_raw_matches_source(ops, warehouse, table)


def test_materialization_reports_the_load_figures(urls):
    ops, warehouse = urls
    extract(["customers"])
    execute(ops, "update app.customers set first_name = 'Changed' where last_name in ('Last1', 'Last2')")

    run = extract(["customers"], reconcile_keys=True)

    assert run.success
    [materialization] = run.result.asset_materializations_for_node("raw__customers")
    metadata = {name: value.value for name, value in materialization.metadata.items()}
    assert metadata["mode"] == "incremental"
    assert metadata["rows_updated"] == 4  # two tenants x two customers
    assert metadata["rows_inserted"] == 0
    assert metadata["rows_flagged_deleted"] == 0
    assert metadata["rows_read"] >= 4 and metadata["bytes"] > 0
    assert metadata["watermark_after"] > metadata["watermark_before"]


def test_drift_fails_the_asset_at_once_without_retry(urls, capsys):
    ops, warehouse = urls
    extract(["reservations"])
    execute(ops, "alter table app.reservations alter column notes type varchar(50) using left(notes, 50)")

    run = extract(["reservations"])

    assert not run.success
    assert run.failures["reservations"].startswith(
        "raw.reservations: source column notes changed type text -> character varying(50)"
    )
    retries = [event for event in run.result.all_events if event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert retries == []
    assert warehouse_cli(["extract", "--table", "reservations"]) == 2
    assert "raw.reservations: FAILED: raw.reservations: source column notes changed type" in capsys.readouterr().err
