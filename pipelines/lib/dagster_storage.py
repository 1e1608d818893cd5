"""The project's Dagster storage: dagster-postgres, each process keeping its connections.

dagster-postgres opens a new connection for every event it stores and every record it
reads (SQLAlchemy's NullPool, so that an idle process holds none); only the webserver keeps
one (`optimize_for_webserver`). A nightly run stores about 870 events, and Dagster reads
asset records around each output: each new connection is a TCP connect, a backend started
by the server and a SCRAM authentication (4.8 ms on an idle server). Here every process
using the storage, the runs of `warehouse run` and of the daemon's run workers included,
keeps up to POOL_SIZE connections per storage (runs, events, schedules), opens more while
threads contend for them (closed when handed back), and checks a connection before it uses one, so
a server restarted under a long-lived daemon costs a reconnect, not a failed run.

Dagster starts its processes by exec, spawn or forkserver, never a bare fork, so no child
ever inherits a connection of its parent's pool.
"""

from __future__ import annotations

from typing import Any

from dagster._core.storage.config import PostgresStorageConfig
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

# Two: storing an event opens a second connection while it holds the first (asset records), so
# one kept connection still left a new one per step (23 for a run of 20 one-asset steps, 3 with two).
POOL_SIZE = 2
# As dagster-webserver's defaults (--db-pool-recycle, --db-pool-max-overflow).
POOL_RECYCLE_SECONDS = 3600
MAX_OVERFLOW = 20


class PooledPostgresStorage(DagsterPostgresStorage):
    """DagsterPostgresStorage whose run, event log and schedule storages keep a connection."""

    def __init__(self, postgres_url: str, *args: Any, **kwargs: Any):
        super().__init__(postgres_url, *args, **kwargs)
        for storage in (self.run_storage, self.event_log_storage, self.schedule_storage):
            # The engine each storage made for itself, with NullPool, replaced by a pooled
            # one (the webserver's optimize_for_webserver replaces it the same way).
            storage._engine.dispose()
            storage._engine = create_pg_engine(
                postgres_url,
                kwargs.get("token_provider"),
                isolation_level="AUTOCOMMIT",
                pool_size=POOL_SIZE,
                max_overflow=MAX_OVERFLOW,
                pool_recycle=POOL_RECYCLE_SECONDS,
                pool_pre_ping=True,
            )

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: PostgresStorageConfig
    ) -> PooledPostgresStorage:
        return cls(
            pg_url_from_config(config_value),
            inst_data=inst_data,
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
