"""A load killed with SIGKILL mid-COPY or mid-upsert leaves the previous state; the rerun equals a clean run.

The extraction runs in a subprocess that pauses at a named point (settings'
extract_pause_at); the test kills it there, so the timing is certain, not slept for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg
import pytest
from extract_support import assert_raw_matches_source, databases, empty_pair, execute, scalar, seed_source  # noqa: F401 (fixtures)

from pipelines.lib.extract import load_table
from pipelines.settings import PROJECT_ROOT

LOAD = (
    "import sys; from pipelines.lib.extract import load_table; "
    "load_table(sys.argv[1], sys.argv[2], sys.argv[3], **eval(sys.argv[4]))"
)


def _load_killed_at(point: str, ops: str, warehouse: str, table: str, while_paused=None, **options) -> None:
    env = {**os.environ, "KENNELWORKS_EXTRACT_PAUSE_AT": point}
    process = subprocess.Popen(
        [sys.executable, "-c", LOAD, ops, warehouse, table, repr(options)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        assert line.strip() == f"paused at {point}", process.stderr.read()
        if while_paused is not None:
            while_paused()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _state(warehouse: str, table: str) -> tuple:
    return (
        scalar(warehouse, f"select count(*) from raw.{table}"),
        scalar(warehouse, f"select count(distinct id) from raw.{table}"),
        scalar(warehouse, f"select md5(string_agg(raw_row::text, '' order by id)) from raw.{table} as raw_row"),
        scalar(warehouse, "select count(*) from meta.load_log"),
        scalar(warehouse, "select watermark from meta.extract_state where table_name = %s", (table,)),
    )


@pytest.fixture()
def source(empty_pair):  # noqa: F811
    ops, warehouse = empty_pair
    seed_source(ops, customers=3000)  # > 1 MB of reservations: the COPY is cut between two blocks
    return ops, warehouse


def test_kill_during_first_load_copy_leaves_nothing_and_rerun_is_clean(source, make_database):
    ops, warehouse = source
    _load_killed_at("copy", ops, warehouse, "reservations", reader="psql")  # the reader of big tables

    assert scalar(warehouse, "select to_regclass('raw.reservations') is null")
    result = load_table(ops, warehouse, "reservations")

    clean = make_database("xclean")
    load_table(ops, clean, "reservations")
    assert result.mode == "full"
    assert_raw_matches_source(ops, warehouse, "reservations")
    assert _state(warehouse, "reservations")[:2] == _state(clean, "reservations")[:2]
    assert scalar(warehouse, "select count(*) from meta.load_log where table_name = 'reservations'") == 1


@pytest.mark.parametrize("point", ["copy", "upsert"])
def test_kill_during_incremental_load_keeps_previous_state_and_rerun_is_clean(source, point):
    ops, warehouse = source
    load_table(ops, warehouse, "reservations")
    before = _state(warehouse, "reservations")
    execute(
        ops,
        "update app.reservations set status = 'checked_out' "
        "where id in (select id from app.reservations order by id limit 2000)",
        "delete from app.reservations where id in (select id from app.reservations order by id desc limit 10)",
    )

    _load_killed_at(point, ops, warehouse, "reservations")

    assert _state(warehouse, "reservations") == before
    result = load_table(ops, warehouse, "reservations")
    assert (result.rows_updated, result.rows_flagged_deleted) == (2000, 10)
    assert_raw_matches_source(ops, warehouse, "reservations")
    after = _state(warehouse, "reservations")
    assert after[0] == after[1] == before[0]  # no duplicate keys, no row lost
    assert after[3] == before[3] + 1  # the killed batch left no load_log row


def test_kill_during_full_refresh_keeps_old_rows_visible(source):
    ops, warehouse = source
    load_table(ops, warehouse, "reservations")
    before = _state(warehouse, "reservations")

    seen_while_paused = []

    def read_raw():  # the refresh has truncated and reloaded raw, uncommitted: a reader waits, never sees 0 rows
        with psycopg.connect(warehouse) as reader:
            reader.execute("set lock_timeout = '300ms'")
            try:
                seen_while_paused.append(reader.execute("select count(*) from raw.reservations").fetchone()[0])
            except psycopg.errors.LockNotAvailable:
                seen_while_paused.append("waited")

    _load_killed_at("upsert", ops, warehouse, "reservations", while_paused=read_raw, full_refresh=True)

    assert seen_while_paused == ["waited"]
    assert _state(warehouse, "reservations") == before
