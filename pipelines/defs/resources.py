"""Database resources shared by every concern.

A resource names a database ("ops" or "warehouse"), not a URL: the URL and its password
are resolved from settings when a run needs them, so no secret is stored in Dagster's
run config, event log or UI.
"""

from __future__ import annotations

import dagster as dg
import psycopg

from pipelines.lib.databases import connect, database_urls


class PostgresResource(dg.ConfigurableResource):
    """Connections to one of the project's databases."""

    database: str

    def url(self) -> str:
        return getattr(database_urls(), self.database)

    def connect(self, **kwargs) -> psycopg.Connection:
        return connect(self.url(), **kwargs)


RESOURCES = {
    "ops_db": PostgresResource(database="ops"),
    "warehouse_db": PostgresResource(database="warehouse"),
}

defs = dg.Definitions(resources=RESOURCES)
