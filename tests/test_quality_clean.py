"""With every anomaly rate at zero, every suite of every layer passes; the CLI says so.

A clean source at scale 0.01 goes through the real pipeline (generate, extract, dbt
build); `warehouse dq run` must then exit 0 with no failed expectation, and
`warehouse dq report` must print the latest results and write the HTML summary.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from expectations.catalog import all_suites
from pipelines.cli import main
from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all
from pipelines.settings import get_settings
from pipelines.source.anomalies import AnomalyRates
from pipelines.source.generate import generate

RUN_DATE = date(2026, 6, 30)


@pytest.fixture(scope="module")
def clean_warehouse(make_database, tmp_path_factory):
    ops, warehouse = make_database("dqc_ops"), make_database("dqc_wh")
    manifest = tmp_path_factory.mktemp("manifest") / "manifest.json"
    generate(ops, scale=0.01, seed=5, reference_date=RUN_DATE, anomaly_rates=AnomalyRates.uniform(0),
             manifest_path=manifest)  # fmt: skip
    load_all(ops, warehouse)
    dbt_build(warehouse, vars={"run_date": RUN_DATE.isoformat()})
    return ops, warehouse


@pytest.fixture()
def cli_env(clean_warehouse, monkeypatch, tmp_path):
    ops, warehouse = clean_warehouse
    for name, url in (("OPS_DATABASE_URL", ops), ("WAREHOUSE_DATABASE_URL", warehouse), ("DAGSTER_DATABASE_URL", ops)):
        monkeypatch.setenv(name, url)
    monkeypatch.setenv("KENNELWORKS_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield warehouse
    get_settings.cache_clear()


def test_every_suite_passes_on_a_clean_source_and_the_cli_exits_zero(cli_env, tmp_path, capsys):
    code = main(["dq", "run", "--gx-root", str(tmp_path / "context")])

    out = capsys.readouterr().out
    expectations = sum(len(suite.checks) for suite in all_suites())
    assert f"{expectations} expectations: 0 errors, 0 warnings" in out
    assert code == 0
    with psycopg.connect(cli_env) as conn:
        failed = conn.execute(
            "select count(*) filter (where not success), count(*) from dq.validation_results"
        ).fetchone()
    assert failed == (0, expectations)


def test_report_prints_the_latest_results_and_writes_the_html_summary(cli_env, tmp_path, capsys):
    main(["dq", "run", "--layer", "raw", "--gx-root", str(tmp_path / "context")])
    capsys.readouterr()
    output = tmp_path / "dq.html"

    code = main(["dq", "report", "--output", str(output)])

    out = capsys.readouterr().out
    assert code == 0
    assert "orphan_reservation_pet" in out and f"HTML summary: {output}" in out
    page = output.read_text()
    assert "orphans.raw.reservations" in page
    assert (tmp_path / "context" / "gx" / "uncommitted" / "data_docs" / "local_site").as_uri() in page


def test_an_unknown_suite_is_a_clear_error(cli_env, capsys):
    code = main(["dq", "run", "--suite", "orphans.raw.unicorns"])

    assert code == 2
    assert "no suite named orphans.raw.unicorns" in capsys.readouterr().err
