"""The embedded server's lifecycle: up, reuse, down, recovery after kill -9, clear errors."""

from __future__ import annotations

import os
import shutil
import signal
import time
import uuid

import psycopg
import pytest

from pipelines.cli import main as warehouse
from pipelines.lib.pgserver import DATABASES, EmbeddedServer, ServerError
from tests.conftest import TEST_SERVER_HOME


@pytest.fixture()
def server():
    # Not under pytest's tmp dir: pytest keeps that 0700, and when we run as root the
    # server runs as another system user that must be able to traverse to its data.
    home = TEST_SERVER_HOME.parent / "test-homes" / uuid.uuid4().hex[:12]
    home.mkdir(parents=True)
    server = EmbeddedServer(home)
    yield server
    server.down()
    shutil.rmtree(home, ignore_errors=True)


def _query(info, sql: str, database: str = "postgres"):
    with psycopg.connect(info.url(database)) as conn:
        return conn.execute(sql).fetchone()[0]


def test_up_creates_databases_tuned_for_warehouse_work(server):
    info = server.up()
    names = {_query(info, f"select datname from pg_database where datname = '{db}'") for db in DATABASES}
    assert names == set(DATABASES)
    assert _query(info, "show wal_level") == "minimal"
    assert _query(info, "show max_wal_senders") == "0"
    assert _query(info, "show listen_addresses") == "127.0.0.1"
    assert info.url().startswith("postgresql://warehouse_admin:")


def test_second_up_reuses_the_running_server(server):
    first = server.up()
    second = server.up()
    assert (second.pid, second.port) == (first.pid, first.port)


def test_password_is_required(server):
    info = server.up()
    bad = info.url().replace(info.password, "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad)


def test_down_then_up_keeps_data_and_port(server):
    info = server.up()
    with psycopg.connect(info.url("ops")) as conn:
        conn.execute("create table kept (x int); insert into kept values (42)")
    assert server.down() is True
    assert server.status() is None
    assert server.down() is False
    again = server.up()
    assert again.port == info.port
    assert _query(again, "select x from kept", "ops") == 42


def test_restart_after_kill_9_of_the_postmaster(server):
    info = server.up()
    with psycopg.connect(info.url("ops")) as conn:
        conn.execute("create table survived (x int); insert into survived values (7)")
    os.kill(info.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.status() is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.status() is None
    assert (server.pgdata / "postmaster.pid").exists()  # the stale pid file the crash left
    again = server.up()
    assert again.pid != info.pid
    assert _query(again, "select x from survived", "ops") == 7


def test_unusable_data_directory_is_a_clear_error(tmp_path, capsys, monkeypatch):
    (tmp_path / "pgdata").mkdir()
    (tmp_path / "pgdata" / "somebody-elses-file").write_text("not a cluster")
    with pytest.raises(ServerError, match="is not empty and is not a PostgreSQL data directory"):
        EmbeddedServer(tmp_path).up()

    monkeypatch.setenv("KENNELWORKS_HOME", str(tmp_path))
    from pipelines.settings import get_settings

    get_settings.cache_clear()
    try:
        assert warehouse(["db", "up"]) == 2
    finally:
        get_settings.cache_clear()
    assert "is not empty and is not a PostgreSQL data directory" in capsys.readouterr().err
