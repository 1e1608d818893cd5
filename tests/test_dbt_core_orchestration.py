"""dbt orchestration without a dbt run: argument building, date validation, the Dagster graph."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from importlib.metadata import version

import dagster as dg
import pytest
from packaging.version import Version

from pipelines.lib.dbt import dbt_args, dbt_environment, months_in_window, validate_vars


def test_dates_are_validated_before_they_reach_dbt():
    assert validate_vars({"run_date": "2026-03-15"}) == {"run_date": "2026-03-15"}
    assert validate_vars({"run_date": None}) == {"run_date": ""}
    for bad in ("2026-02-30", "2026-3-1", "2026-03-15'; drop table x; --", "yesterday"):
        with pytest.raises(ValueError, match="run_date must be an ISO date"):
            validate_vars({"run_date": bad})
    assert validate_vars({"reservation_months": ["2026-04-17", "2026-03", "2026-04-01"]}) == {
        "reservation_months": ["2026-03-01", "2026-04-01"]
    }
    with pytest.raises(ValueError, match="reservation_months"):
        validate_vars({"reservation_months": ["2026-13"]})


def test_dbt_args_carry_validated_vars_and_selection(tmp_path):
    args = dbt_args(
        ["build"],
        select="fct_reservation_history",
        vars={"reservation_months": ["2026-03-17"]},
        full_refresh=True,
        target_path=tmp_path,
    )
    assert args[0] == "build"
    assert args[args.index("--select") + 1] == "fct_reservation_history"
    assert json.loads(args[args.index("--vars") + 1]) == {"reservation_months": ["2026-03-01"]}
    assert args[args.index("--target-path") + 1] == str(tmp_path)
    assert args[-1] == "--full-refresh"
    # a nightly build runs no unit tests (fixed inputs: development and CI run them)
    assert args[:3] == ["build", "--exclude-resource-type", "unit_test"]
    assert "unit_test" not in dbt_args(["build"], unit_tests=True)
    assert "unit_test" not in dbt_args(["test"])
    # the models alone (the bench's night without tests): data tests out, unit tests still out
    assert dbt_args(["build"], data_tests=False)[:5] == [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--exclude-resource-type",
        "test",
    ]
    # the run date changes every night: as a --var it would make dbt re-parse every file
    with pytest.raises(ValueError, match="run_date is passed to run_dbt"):
        dbt_args(["build"], vars={"run_date": "2026-03-15"})


def test_the_dbt_executable_tells_dagster_dbt_its_version_without_importing_dbt():
    from pipelines.defs.transform.assets import DBT_EXECUTABLE, DBT_RESOURCES

    done = subprocess.run([DBT_EXECUTABLE, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    # dagster-dbt runs it before each dbt step and reads dbt-core's version from it
    assert DBT_RESOURCES["dbt"]._cli_version == Version(version("dbt-core"))
    # dbt's own --version imports dbt and asks PyPI for its latest release
    probe = (
        "import sys; from pipelines.lib import dbt_executable; dbt_executable.version_text(); "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'dbt'))"
    )
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert imported.stdout.strip() == "[]", imported.stderr


def test_dbt_environment_comes_from_the_url_and_is_never_in_the_arguments(monkeypatch):
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    env = dbt_environment("postgresql://loader:s3cret@127.0.0.1:6543/warehouse", run_date="2026-03-15")
    assert env == {
        "DBT_HOST": "127.0.0.1",
        "DBT_PORT": "6543",
        "DBT_USER": "loader",
        "DBT_PASSWORD": "s3cret",
        "DBT_DATABASE": "warehouse",
        "DBT_ROLE": "warehouse_transformer",
        "KENNELWORKS_RUN_DATE": "2026-03-15",
        "DBT_LOG_LEVEL_FILE": "info",  # not every SQL statement (DBT_LOG_LEVEL_FILE=debug does)
    }
    assert dbt_environment("postgresql://loader@h/warehouse")["KENNELWORKS_RUN_DATE"] == ""  # today
    with pytest.raises(ValueError, match="run_date must be an ISO date"):
        dbt_environment("postgresql://loader@h/warehouse", run_date="2026-03-15'; drop table x; --")
    assert "s3cret" not in " ".join(dbt_args(["build"], vars={"reservation_months": ["2026-03-01"]}))


def test_the_manifest_is_prepared_without_a_database_by_one_process_at_a_time(tmp_path):
    from pipelines.lib.dbt import prepare_manifest
    from pipelines.lib.file_lock import exclusive

    manifest = prepare_manifest(target_path=tmp_path)
    nodes = json.loads(manifest.read_text())["nodes"]
    assert nodes["model.kennelworks.fct_reservation_history"]["schema"] == "marts"

    # The Dagster webserver and daemon load the definitions at once: while one prepares the
    # manifest, the other waits (here the manifest is fresh, so it would return at once).
    returned = threading.Event()
    with exclusive(tmp_path, "parse"):
        other = threading.Thread(target=lambda: (prepare_manifest(target_path=tmp_path), returned.set()))
        other.start()
        assert not returned.wait(1.0)
    other.join(30)
    assert returned.is_set()


def test_monthly_partition_window_gives_its_months():
    assert months_in_window(dt.datetime(2026, 3, 1), dt.datetime(2026, 4, 1)) == ["2026-03-01"]
    assert months_in_window(dt.date(2025, 11, 1), dt.date(2026, 2, 1)) == ["2025-11-01", "2025-12-01", "2026-01-01"]


@pytest.fixture(scope="module")
def asset_graph():
    from pipelines.definitions import defs

    return defs.get_repository_def().asset_graph


def test_dbt_models_hang_off_the_raw_assets_grouped_by_schema(asset_graph):
    staging = asset_graph.get(dg.AssetKey(["staging", "stg_app__reservations"]))
    assert staging.parent_keys == {dg.AssetKey(["raw", "reservations"])}
    assert staging.group_name == "staging"
    history = asset_graph.get(dg.AssetKey(["marts", "fct_reservation_history"]))
    assert history.group_name == "marts"
    occupancy = asset_graph.get(dg.AssetKey(["reporting", "rpt_kennel_occupancy_daily"]))
    assert dg.AssetKey(["marts", "fct_reservation_history"]) in occupancy.parent_keys
    assert asset_graph.get(dg.AssetKey(["dq", "quarantined_rows"])).group_name == "dq"


def test_dbt_tests_are_asset_checks(asset_graph):
    checks = {(key.asset_key.to_user_string(), key.name) for key in asset_graph.asset_check_keys}
    assert ("marts/fct_reservation_history", "primary_key_fct_reservation_history_reservation_id") in checks
    assert ("reporting/rpt_current_occupancy", "primary_key_rpt_current_occupancy_resource_id") in checks


def test_monthly_rebuild_job_is_partitioned_by_month():
    from pipelines.definitions import defs

    job = defs.get_job_def("rebuild_reservation_months")
    assert isinstance(job.partitions_def, dg.MonthlyPartitionsDefinition)
    window = job.partitions_def.time_window_for_partition_key("2026-03-01")
    assert months_in_window(window.start, window.end) == ["2026-03-01"]
