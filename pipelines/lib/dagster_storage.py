"""The project's Dagster storage: dagster-postgres, runs and events on connections kept.

dagster-postgres opens a new connection for every event it stores and every record it
reads (SQLAlchemy's NullPool, so that an idle process holds none); only the webserver keeps
one (`optimize_for_webserver`). A nightly run at scale 1 stores about 870 events and reads
asset records around each output: 2,625 connections, each a TCP connect, a backend started
by the server and a SCRAM authentication (4.8 ms on an idle server). Here the run and event
log storages of every process but the webserver (`warehouse run`, the daemon, its run
workers, code servers) keep POOL_SIZE connections, open more while threads contend for them
(closed when handed back), check a connection before using it, so that a server restarted
under a long-lived daemon costs a reconnect and not a failed run, and close them when the
instance is disposed. The webserver keeps dagster-postgres's engine for it (one connection
and a statement timeout). The schedule storage, read once a daemon tick, keeps its own.

No connection crosses a process: Dagster's child processes are spawned (code servers,
dagster/_grpc/server.py; the multiprocess executor's default start method), run workers
are new commands, and dbt runs in a subprocess.
"""

from __future__ import annotations

from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.config import PostgresStorageConfig
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage, PostgresEventLogStorage, PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

# Two: storing an event opens a second connection while it holds the first (asset records), so
# one kept connection still left a new one per step (23 for a run of 20 one-asset steps, 3 with two).
POOL_SIZE = 2
# As dagster-webserver's defaults (--db-pool-recycle, --db-pool-max-overflow). A thread beyond
# POOL_SIZE + MAX_OVERFLOW at once waits (30 s, then fails): a run's steps are stored one at a
# time (in-process executor), and the daemon has a thread per daemon, far fewer.
POOL_RECYCLE_SECONDS = 3600
MAX_OVERFLOW = 20


class _KeepsConnections:
    """A dagster-postgres storage whose engine keeps its connections until it is disposed."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, token_provider=None):
        super().__init__(postgres_url, should_autocreate_tables, token_provider=token_provider)
        # The NullPool engine the storage made (and created its tables with), replaced as the
        # webserver's optimize_for_webserver replaces it.
        self._engine.dispose()
        self._engine = create_pg_engine(
            postgres_url,
            token_provider,
            isolation_level="AUTOCOMMIT",
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            pool_recycle=POOL_RECYCLE_SECONDS,
            pool_pre_ping=True,
        )

    def optimize_for_webserver(self, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None:
        # The webserver's own engine replaces ours: close ours first.
        self._engine.dispose()
        super().optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()


class PooledRunStorage(_KeepsConnections, PostgresRunStorage):
    pass


class PooledEventLogStorage(_KeepsConnections, PostgresEventLogStorage):
    pass


class PooledPostgresStorage(DagsterPostgresStorage):
    """DagsterPostgresStorage with the run and event log storages above."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider=None,
    ):
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        self._run_storage = PooledRunStorage(postgres_url, should_autocreate_tables, token_provider)
        self._event_log_storage = PooledEventLogStorage(postgres_url, should_autocreate_tables, token_provider)
        self._schedule_storage = PostgresScheduleStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        DagsterStorage.__init__(self)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: PostgresStorageConfig
    ) -> PooledPostgresStorage:
        return cls(
            pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )
