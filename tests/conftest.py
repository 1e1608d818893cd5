"""Shared fixtures: a real PostgreSQL for every test, never a mock.

By default the tests run their own embedded server under `.warehouse/test-server`
(its data directory is kept between runs, so only the first run pays for initdb; a server
the session started is stopped when the session ends). Set TEST_DATABASE_URL to a
superuser URL of another server to run against that instead. Each test module asks for
fresh databases through `make_database`, so tests never see each other's rows and
never touch the demo's data.

`make test` runs the modules on parallel workers (pytest-xdist, `--dist loadfile`): the
controlling process starts the server before the workers exist and stops it after they
have all finished, so no worker stops it under another. Workers find it through
SERVER_URL_VARIABLE, which they inherit, and each writes its own dbt target/.
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

# Set before any test module imports pipelines.lib.dbt, which reads dbt's own variable:
# two workers' dbt commands writing one target/ would overwrite each other's manifest.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER and not os.environ.get("DBT_TARGET_PATH"):
    os.environ["DBT_TARGET_PATH"] = str(PROJECT_ROOT / "target" / f"test-{WORKER}")

SERVER_URL_VARIABLE = "KW_TEST_SERVER_URL"
_STARTED_SERVER = pytest.StashKey[EmbeddedServer | None]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """In the controlling process (or a run without workers): the server, started if needed."""
    if hasattr(session.config, "workerinput") or os.environ.get("TEST_DATABASE_URL"):
        return
    server = EmbeddedServer(TEST_SERVER_HOME)
    already_running = server.status() is not None
    os.environ[SERVER_URL_VARIABLE] = server.up().url("postgres")
    # started for this session: no server outlives `make test`
    session.config.stash[_STARTED_SERVER] = None if already_running else server


def pytest_sessionfinish(session: pytest.Session) -> None:
    server = session.config.stash.get(_STARTED_SERVER, None)
    if server is not None:
        server.down()


@pytest.fixture(scope="session")
def admin_url() -> str:
    """Superuser URL of the server the tests use (database `postgres`)."""
    return os.environ.get("TEST_DATABASE_URL") or os.environ[SERVER_URL_VARIABLE]


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
