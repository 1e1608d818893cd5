"""The warehouse's extraction bookkeeping: schemas raw and meta, watermarks, load log, locks."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from pipelines.lib.extract.load import LoadResult


class LockTimeout(Exception):
    """Another load of the same table held its lock for longer than we wait."""


LOCK_NAMESPACE = "kennelworks.extract"

DDL = """
create schema if not exists raw;
create schema if not exists meta;

create table if not exists meta.extract_state (
    table_name text primary key,
    watermark timestamptz,
    audit_watermark timestamptz,
    last_batch_id uuid not null,
    last_mode text not null,
    last_reconciled_at timestamptz,
    updated_at timestamptz not null default now()
);
comment on table meta.extract_state is
    'One row per source table: the watermark of its last committed load (max updated_at read, never the clock).';

create table if not exists meta.load_log (
    batch_id uuid primary key,
    table_name text not null,
    mode text not null,
    rows_read bigint not null,
    rows_inserted bigint not null,
    rows_updated bigint not null,
    rows_flagged_deleted bigint not null,
    bytes bigint not null,
    seconds numeric(12, 3) not null,
    watermark_before timestamptz,
    watermark_after timestamptz,
    audit_watermark_before timestamptz,
    audit_watermark_after timestamptz,
    columns_added text[] not null default '{}',
    started_at timestamptz not null,
    finished_at timestamptz not null default now()
);
create index if not exists load_log_table_started_idx on meta.load_log (table_name, started_at);
comment on table meta.load_log is
    'One row per committed load; a crashed load leaves no row (it is written in the load''s own transaction).';
"""


@dataclass(frozen=True)
class State:
    watermark: datetime | None = None
    audit_watermark: datetime | None = None


def ensure(conn: psycopg.Connection) -> None:
    """Create schemas raw, meta and the meta tables if missing, and commit.

    Serialized by a lock, because concurrent CREATE ... IF NOT EXISTS can still collide.
    """
    if not conn.execute("select to_regclass('meta.load_log') is not null").fetchone()[0]:
        conn.execute("select pg_advisory_xact_lock(hashtext(%s), 0)", (LOCK_NAMESPACE,))
        conn.execute(DDL)
    conn.commit()


def lock_table(conn: psycopg.Connection, table: str, wait: timedelta) -> None:
    """Take this table's load lock for the current transaction, polling up to `wait`.

    A transaction-level lock is released by commit, rollback or a dead client alike, so
    a crashed load can never leave the table locked.
    """
    deadline = time.monotonic() + wait.total_seconds()
    while True:
        (locked,) = conn.execute(
            "select pg_try_advisory_xact_lock(hashtext(%s), hashtext(%s))", (LOCK_NAMESPACE, table)
        ).fetchone()
        if locked:
            return
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"raw.{table}: another load of this table is still running after {wait.total_seconds():g} s; "
                "nothing was loaded, try again when it has finished"
            )
        time.sleep(0.2)


def read_state(conn: psycopg.Connection, table: str) -> State:
    row = conn.execute(
        "select watermark, audit_watermark from meta.extract_state where table_name = %s", (table,)
    ).fetchone()
    return State(*row) if row else State()


def record(conn: psycopg.Connection, result: LoadResult, started_at: datetime, *, reconciled: bool) -> None:
    """Write the new watermark and the load log row, in the load's own transaction."""
    conn.execute(
        """
        insert into meta.extract_state as state
            (table_name, watermark, audit_watermark, last_batch_id, last_mode, last_reconciled_at, updated_at)
        values (%(table)s, %(watermark)s, %(audit)s, %(batch)s, %(mode)s,
                case when %(reconciled)s then now() end, now())
        on conflict (table_name) do update set
            watermark = excluded.watermark,
            audit_watermark = excluded.audit_watermark,
            last_batch_id = excluded.last_batch_id,
            last_mode = excluded.last_mode,
            last_reconciled_at = coalesce(excluded.last_reconciled_at, state.last_reconciled_at),
            updated_at = excluded.updated_at
        """,
        {
            "table": result.table, "watermark": result.watermark_after, "audit": result.audit_watermark_after,
            "batch": result.batch_id, "mode": result.mode, "reconciled": reconciled,
        },
    )  # fmt: skip
    conn.execute(
        """
        insert into meta.load_log (
            batch_id, table_name, mode, rows_read, rows_inserted, rows_updated, rows_flagged_deleted, bytes,
            seconds, watermark_before, watermark_after, audit_watermark_before, audit_watermark_after,
            columns_added, started_at, finished_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())
        """,
        (
            result.batch_id, result.table, result.mode, result.rows_read, result.rows_inserted,
            result.rows_updated, result.rows_flagged_deleted, result.bytes, result.seconds,
            result.watermark_before, result.watermark_after, result.audit_watermark_before,
            result.audit_watermark_after, list(result.columns_added), started_at,
        ),
    )  # fmt: skip
