"""`warehouse source generate` as a user runs it: rates on the command line, clear errors."""

from __future__ import annotations

import json
import os
import subprocess

import psycopg

from pipelines.cli.source import ANOMALY_KINDS
from pipelines.settings import PROJECT_ROOT
from pipelines.source.anomalies import AnomalyRates
from pipelines.source.verify import find_anomalies

WAREHOUSE = str(PROJECT_ROOT / ".venv" / "bin" / "warehouse")


def _run(args: list[str], url: str, home) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OPS_DATABASE_URL": url,
        "WAREHOUSE_DATABASE_URL": url,
        "DAGSTER_DATABASE_URL": url,
        "KENNELWORKS_HOME": str(home),
    }
    return subprocess.run([WAREHOUSE, *args], env=env, capture_output=True, text=True, timeout=300)


def test_cli_knows_every_anomaly_kind():
    assert AnomalyRates.kinds() == ANOMALY_KINDS


def test_anomaly_rate_zero_with_one_kind_switched_back_on(make_database, tmp_path):
    url = make_database("cli")
    done = _run(
        [
            "source",
            "generate",
            "--scale",
            "0.01",
            "--seed",
            "5",
            "--reference-date",
            "2026-01-31",
            "--anomaly-rate",
            "0",
            "--negative-amount-rate",
            "0.001",
        ],
        url,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "rows/s" in done.stdout and "reservations" in done.stdout
    password = url.split("@")[0].rsplit(":", 1)[-1]
    assert password not in done.stdout + done.stderr
    manifest = json.loads((tmp_path / "source-manifest.json").read_text())
    assert list(manifest["counts"]) == ["negative_amount"] and manifest["counts"]["negative_amount"] > 0
    with psycopg.connect(url) as conn:
        assert set(find_anomalies(conn)) == {"negative_amount"}


def test_bad_arguments_are_clear_errors(make_database, tmp_path):
    url = make_database("clibad")
    bad_date = _run(
        ["source", "generate", "--scale", "0.01", "--seed", "1", "--reference-date", "2026-02-30"], url, tmp_path
    )
    bad_rate = _run(["source", "generate", "--scale", "0.01", "--seed", "1", "--anomaly-rate", "2"], url, tmp_path)
    no_data = _run(["source", "simulate", "--days", "2"], url, tmp_path)
    assert bad_date.returncode == 2 and "not a date (YYYY-MM-DD): '2026-02-30'" in bad_date.stderr
    assert bad_rate.returncode == 2 and "between 0 and 1" in bad_rate.stderr
    assert no_data.returncode == 2 and "no generated source data" in no_data.stderr
    assert "Traceback" not in bad_date.stderr + bad_rate.stderr + no_data.stderr
