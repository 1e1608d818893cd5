"""Where the three databases are: from the environment, else the embedded server.

`database_urls()` is the one place that turns settings into connection URLs; it starts
the embedded server only when some URL is not given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from pipelines.lib.pgserver import EmbeddedServer
from pipelines.settings import Settings, get_settings


@dataclass(frozen=True)
class DatabaseUrls:
    ops: str
    warehouse: str
    dagster: str


def embedded_server(settings: Settings | None = None) -> EmbeddedServer:
    settings = settings or get_settings()
    return EmbeddedServer(settings.home, settings.admin_password)


def database_urls(settings: Settings | None = None) -> DatabaseUrls:
    settings = settings or get_settings()
    if not settings.uses_embedded_server:
        return DatabaseUrls(settings.ops_url, settings.warehouse_url, settings.dagster_url)
    server = embedded_server(settings).up()
    return DatabaseUrls(
        ops=settings.ops_url or server.url("ops"),
        warehouse=settings.warehouse_url or server.url("warehouse"),
        dagster=settings.dagster_url or server.url("dagster"),
    )


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and terminals."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy needs the driver named; psycopg 3 is ours."""
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


def connect(url: str, **kwargs) -> psycopg.Connection:
    """A psycopg connection with the project's session defaults (UTC, named application)."""
    kwargs.setdefault("application_name", "kennelworks")
    conn = psycopg.connect(url, **kwargs)
    return conn
