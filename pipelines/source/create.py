"""Create (idempotently) the operational source schema in the `ops` database."""

from __future__ import annotations

import psycopg
from sqlalchemy import create_engine

from pipelines.lib.databases import sqlalchemy_url
from pipelines.settings import PROJECT_ROOT
from pipelines.source.schema import AUDITED_TABLES, SCHEMA, metadata

TRIGGERS_SQL = PROJECT_ROOT / "pipelines" / "source" / "triggers.sql"


def create_source_schema(ops_url: str) -> None:
    """Tables, constraints, indexes and triggers of the app; existing objects are kept."""
    with psycopg.connect(ops_url, autocommit=True) as conn:
        conn.execute(f"create schema if not exists {SCHEMA}")
    engine = create_engine(sqlalchemy_url(ops_url))
    try:
        metadata.create_all(engine, checkfirst=True)
    finally:
        engine.dispose()
    with psycopg.connect(ops_url) as conn:
        conn.execute(TRIGGERS_SQL.read_text())
        for table in metadata.sorted_tables:
            conn.execute(
                f"create or replace trigger touch_updated_at before update on {SCHEMA}.{table.name} "
                f"for each row execute function {SCHEMA}.touch_updated_at()"
            )
        for name in AUDITED_TABLES:
            conn.execute(
                f"create or replace trigger write_audit_log after insert or update or delete on {SCHEMA}.{name} "
                f"for each row execute function {SCHEMA}.write_audit_log()"
            )
