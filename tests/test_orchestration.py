"""Orchestration: the definitions graph, schedules, the failure sensor and the Dagster instance."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import yaml
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from psycopg.conninfo import conninfo_to_dict

from pipelines.definitions import defs
from pipelines.defs.orchestration.run import RunRequestError, partition_tags, project_instance
from pipelines.defs.orchestration.sensors import record_failed_runs
from pipelines.lib.dagster_home import dagster_environment, prepare_dagster_home
from pipelines.settings import get_settings, read_settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.txt"


def definitions_snapshot() -> str:
    """Every asset, check, job, schedule and sensor, one per line, sorted: a review shows any graph change."""
    graph = defs.resolve_asset_graph()
    lines = [f"asset {key.to_user_string()}" for key in graph.get_all_asset_keys()]
    lines += [f"check {key.asset_key.to_user_string()}:{key.name}" for key in graph.asset_check_keys]
    lines += [f"job {job.name}" for job in defs.resolve_all_job_defs() if not job.name.startswith("__")]
    lines += [
        f"schedule {s.name} {s.cron_schedule} -> {s.job_name}"
        for s in (defs.resolve_schedule_def(d.name) for d in defs.schedules)
    ]
    lines += [f"sensor {sensor.name}" for sensor in defs.sensors]
    return "\n".join(sorted(lines)) + "\n"


def test_definitions_match_the_reviewed_snapshot():
    current = definitions_snapshot()
    if os.environ.get("KENNELWORKS_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), (
        "the Dagster graph changed; review the diff and rerun with KENNELWORKS_UPDATE_SNAPSHOTS=1"
    )


def test_every_job_runs_in_process():
    for job in defs.resolve_all_job_defs():
        assert job.executor_def.name == "in_process", job.name


@pytest.mark.parametrize(
    ("schedule_name", "job_name", "tick"),
    [
        ("warehouse_nightly_schedule", "warehouse_nightly", dt.datetime(2026, 3, 8, 2, 30, tzinfo=dt.UTC)),
        ("occupancy_hourly_schedule", "occupancy_hourly", dt.datetime(2026, 3, 8, 13, 5, tzinfo=dt.UTC)),
        ("archive_monthly_schedule", "archive_monthly", dt.datetime(2026, 4, 1, 4, 0, tzinfo=dt.UTC)),
    ],
)
def test_a_schedule_tick_requests_its_job(schedule_name, job_name, tick):
    schedule = defs.resolve_schedule_def(schedule_name)
    assert schedule.job_name == job_name
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        data = schedule.evaluate_tick(context)
    [request] = data.run_requests
    assert request.tags.get("kennelworks/schedule") or request.job_name in (None, job_name)


def test_hourly_job_extracts_only_what_occupancy_needs():
    job = defs.resolve_job_def("occupancy_hourly")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    raw = {key for key in keys if key.startswith("raw/")}
    assert raw == {"raw/tenants", "raw/reservations", "raw/resources", "raw/customers", "raw/pets"}
    assert {"reporting/rpt_kennel_occupancy_daily", "reporting/rpt_current_occupancy",
            "reporting/rpt_reservation_calendar"} <= keys  # fmt: skip
    assert not any(key.startswith("reporting/rpt_finance") for key in keys)


def test_partition_tags_are_validated():
    job = defs.resolve_job_def("warehouse_nightly")
    assert partition_tags(job, None, None, None) == {}
    with pytest.raises(RunRequestError):
        partition_tags(job, "2025-13-01", None, None)


def test_instance_keeps_runs_in_postgresql_and_the_file_holds_no_secret(tmp_path, make_database):
    url = make_database("dagster")
    settings = read_settings({"KENNELWORKS_HOME": str(tmp_path)})
    env = dagster_environment(settings, url)
    config_text = (prepare_dagster_home(settings) / "dagster.yaml").read_text()
    config = yaml.safe_load(config_text)
    database = config["storage"]["custom"]["config"]["postgres_db"]
    assert database["password"] == {"env": "KENNELWORKS_DAGSTER_PG_PASSWORD"}
    assert env["KENNELWORKS_DAGSTER_PG_PASSWORD"] and env["KENNELWORKS_DAGSTER_PG_PASSWORD"] not in config_text
    assert config["run_retries"]["enabled"] is True

    with project_instance(read_settings({"KENNELWORKS_HOME": str(tmp_path)}), url) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        result = dg.materialize([_probe], instance=instance)
        assert instance.get_run_by_id(result.run_id) is not None
        # a run worker rebuilds the instance from its reference, which names variables only
        assert env["KENNELWORKS_DAGSTER_PG_PASSWORD"] not in str(instance.get_ref())
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from runs").fetchone()[0] == 1


def sessions_opened(admin_url: str, database: str) -> int:
    """Sessions the server has opened on `database` so far, once none is open (a session is
    counted when its backend has exited, a moment after the client closed it)."""
    deadline = time.monotonic() + 10
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while conn.execute("select count(*) from pg_stat_activity where datname = %s", (database,)).fetchone()[0]:
            assert time.monotonic() < deadline, f"connections to {database} still open 10 s after their instance closed"
            time.sleep(0.1)
        return conn.execute("select sessions from pg_stat_database where datname = %s", (database,)).fetchone()[0]


def test_a_run_stores_its_events_through_the_connections_it_keeps_and_closes_them(tmp_path, make_database, admin_url):
    # dagster-postgres alone opens a connection per event and per read: 2,625 in a nightly
    # run at scale 1, which took 60-65 s against 43 s with its connections kept.
    url = make_database("dagster")
    database = conninfo_to_dict(url)["dbname"]
    settings = read_settings({"KENNELWORKS_HOME": str(tmp_path)})
    with project_instance(settings, url):
        pass  # the storage's tables created
    before = sessions_opened(admin_url, database)
    with project_instance(settings, url) as instance:
        result = dg.materialize(_probes, instance=instance)
        events = len(instance.all_logs(result.run_id))
    # also fails, after 10 s, when the instance leaves its connections open
    opened = sessions_opened(admin_url, database) - before
    assert result.success and events > 100
    # 9 here: 6 while the instance sets up its storages, then the 3 it keeps; 195 with none kept
    assert opened <= 20, f"{opened} connections for a run of {events} events"


def test_a_run_after_the_server_dropped_the_kept_connections_reconnects(tmp_path, make_database, admin_url):
    url = make_database("dagster")
    database = conninfo_to_dict(url)["dbname"]
    with project_instance(read_settings({"KENNELWORKS_HOME": str(tmp_path)}), url) as instance:
        dg.materialize([_probe], instance=instance)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            # as a server restart would; waiting up to 5 s for each backend to exit
            dropped = conn.execute(
                "select count(*) filter (where pg_terminate_backend(pid, 5000)) from pg_stat_activity "
                "where datname = %s",
                (database,),
            ).fetchone()[0]
        assert dropped >= 1  # the instance kept connections
        result = dg.materialize([_probe], instance=instance)
        assert result.success and instance.get_run_by_id(result.run_id) is not None


def test_ui_binds_the_webserver_to_loopback():
    from pipelines.cli.orchestration import ui_command

    command = ui_command(3000)
    assert command[command.index("-h") + 1] == "127.0.0.1"


@dg.asset
def _probe() -> None:
    pass


def _make_probe(number: int) -> dg.AssetsDefinition:
    @dg.asset(name=f"probe_{number}")
    def probe() -> None:
        pass

    return probe


_probes = [_make_probe(number) for number in range(20)]


@dg.asset
def _always_fails() -> None:
    raise RuntimeError("source unreachable: connection refused")


def test_failure_sensor_records_an_alert(make_database, monkeypatch):
    warehouse = make_database("alerts")
    monkeypatch.setenv("WAREHOUSE_DATABASE_URL", warehouse)
    monkeypatch.setenv("OPS_DATABASE_URL", warehouse)
    monkeypatch.setenv("DAGSTER_DATABASE_URL", warehouse)
    get_settings.cache_clear()
    try:
        with dg.instance_for_test() as instance:
            result = dg.materialize([_always_fails], instance=instance, raise_on_error=False)
            assert not result.success
            run = instance.get_run_by_id(result.run_id)
            failure = next(
                entry.dagster_event
                for entry in instance.all_logs(result.run_id)
                if entry.dagster_event and entry.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
            )
            context = dg.build_run_status_sensor_context(
                sensor_name="record_failed_runs", dagster_event=failure, dagster_instance=instance, dagster_run=run
            ).for_run_failure()
            record_failed_runs(context)
            record_failed_runs(context)  # a second evaluation does not duplicate the alert
    finally:
        get_settings.cache_clear()
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute("select run_id, job_name, failed_step, error from meta.alerts").fetchall()
    assert rows == [(result.run_id, "__ephemeral_asset_job__", "_always_fails", rows[0][3])]
    assert "source unreachable: connection refused" in rows[0][3]


@pytest.fixture()
def landed_source(make_database, monkeypatch, tmp_path):
    """A small generated source landed in raw, nothing built yet; settings point at it."""
    from pipelines.lib.extract import load_all
    from pipelines.source.generate import generate

    ops, warehouse = make_database("bf_ops"), make_database("bf_wh")
    generate(ops, scale=0.01, seed=4, reference_date=dt.date(2026, 6, 30), manifest_path=tmp_path / "m.json")
    load_all(ops, warehouse)
    for name, url in (("OPS", ops), ("WAREHOUSE", warehouse), ("DAGSTER", warehouse)):
        monkeypatch.setenv(f"{name}_DATABASE_URL", url)
    get_settings.cache_clear()
    yield warehouse
    get_settings.cache_clear()


def _history_comment(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("select obj_description('marts.fct_reservation_history'::regclass, 'pg_class')").fetchone()[
            0
        ]


def test_a_two_month_backfill_is_one_run_and_rebuilds_exactly_those_months(landed_source):
    from pipelines.defs.orchestration.run import run_job

    with dg.instance_for_test() as instance:
        # the very first build of the history is a backfill: it must create the table itself
        first = run_job("rebuild_reservation_months", first="2026-03-01", last="2026-04-01", instance=instance)
        assert first.success, first.failed_steps
        with psycopg.connect(landed_source) as conn:
            built = conn.execute("select count(*) from marts.fct_reservation_history").fetchone()[0]
            expected = conn.execute(
                "select count(*) from raw.reservations r where r._deleted_in_source_at is null"
            ).fetchone()[0]
        assert 0 < built <= expected

        second = run_job("rebuild_reservation_months", first="2026-03-01", last="2026-04-01", instance=instance)
        assert second.success, second.failed_steps
        assert "rebuilt=2; months=p202603,p202604;" in _history_comment(landed_source)
        runs = instance.get_runs()
        assert len(runs) == 2  # one run per backfill, not one per month
        assert runs[0].tags["dagster/asset_partition_range_start"] == "2026-03-01"
        assert runs[0].tags["dagster/asset_partition_range_end"] == "2026-04-01"


def test_an_unknown_partition_is_a_clear_error():
    from pipelines.defs.orchestration.run import run_job

    with pytest.raises(RunRequestError, match="is not a partition"):
        run_job("rebuild_reservation_months", partition="2026-03-15")
    with pytest.raises(RunRequestError, match="no job named"):
        run_job("nightly; drop table x")


def test_reporting_builds_in_a_step_after_the_blocking_mart_checks():
    """A failed error-severity check on a mart can only stop reporting if reporting is a later step."""
    job = defs.resolve_job_def("warehouse_nightly")
    layer = job.asset_layer
    step_of = {key: layer.get_op_output_handle(key).node_handle.name for key in layer.executable_asset_keys}
    reporting = {step for key, step in step_of.items() if key.path[0] == "reporting"}
    marts = {step for key, step in step_of.items() if key.path[0] == "marts"}
    assert reporting == {"reporting_dbt_models"}
    assert marts.isdisjoint(reporting)
    blocking = [spec for spec in defs.resolve_asset_graph().asset_check_keys if spec.asset_key.path[0] == "marts"]
    assert blocking  # the gx_marts checks exist and sit on mart assets


def test_steps_that_write_the_same_schemas_share_a_pool():
    graph = defs.resolve_asset_graph()
    pools = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_executable:
            pools.setdefault(key.path[0], set()).add(node.pools and next(iter(node.pools)))
    assert pools["raw"] == {"warehouse_raw"}
    assert {pool for schema, found in pools.items() if schema != "raw" for pool in found} == {"warehouse_models"}
