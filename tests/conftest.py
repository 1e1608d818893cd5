"""Shared fixtures: a real PostgreSQL for every test, never a mock.

By default the tests run their own embedded server under `.warehouse/test-server`
(its data directory is kept between runs, so only the first run pays for initdb; a server
the session started is stopped when the session ends). Set TEST_DATABASE_URL to a
superuser URL of another server to run against that instead. Each test module asks for
fresh databases through `make_database`, so tests never see each other's rows and
never touch the demo's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from pipelines.lib.pgserver import EmbeddedServer
from pipelines.settings import PROJECT_ROOT

TEST_SERVER_HOME = PROJECT_ROOT / ".warehouse" / "test-server"


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    """Superuser URL of the server the tests use (database `postgres`)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = EmbeddedServer(TEST_SERVER_HOME)
    already_running = server.status() is not None
    yield server.up().url("postgres")
    if not already_running:  # started for this session: no server outlives `make test`
        server.down()


@pytest.fixture(scope="session")
def make_database(admin_url: str) -> Iterator[Callable[[str], str]]:
    """Factory: `make_database("ops")` creates an empty database and returns its URL."""
    created: list[str] = []

    def make(prefix: str) -> str:
        name = f"t_{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        created.append(name)
        return with_database(admin_url, name)

    yield make
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'drop database if exists "{name}" with (force)')


def with_database(url: str, database: str) -> str:
    """`url` pointed at another database on the same server."""
    head, sep, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}{sep}{query}"
