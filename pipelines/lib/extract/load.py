"""Load one source table into raw.<table>: snapshot, binary COPY, upsert, watermark, one commit.

Guarantees of `load_table`:
* everything it writes (rows, new columns, delete flags, watermark, load log) is committed
  in ONE warehouse transaction, so a crash at any point leaves the previous state and
  the next run repeats the batch;
* it reads one REPEATABLE READ, READ ONLY snapshot of the source, taken after the
  table's advisory lock is held, so two loads never interleave and never go backwards;
* raw never loses a row: rows gone from the source get `_deleted_in_source_at`;
* schema drift that raw cannot follow raises SchemaDriftError before anything is written.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from pipelines.lib.databases import connect
from pipelines.lib.extract import meta, watermark
from pipelines.lib.extract.batch import Batch, pause_point, table_columns
from pipelines.lib.extract.meta import LockTimeout
from pipelines.lib.extract.registry import (
    RAW_SCHEMA,
    REGISTRY,
    SOURCE_SCHEMA,
    table_spec,
)
from pipelines.settings import get_settings

log = logging.getLogger("pipelines.extract")

DEFAULT_LOOKBACK = timedelta(minutes=15)


@dataclass(frozen=True)
class LoadResult:
    """What one load did; also the row written to meta.load_log."""

    table: str
    batch_id: uuid.UUID
    mode: str  # full (first load), incremental, full_refresh
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_flagged_deleted: int
    bytes: int
    seconds: float
    watermark_before: datetime | None
    watermark_after: datetime | None
    audit_watermark_before: datetime | None = None
    audit_watermark_after: datetime | None = None
    columns_added: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows_written(self) -> int:
        return self.rows_inserted + self.rows_updated + self.rows_flagged_deleted

    def summary(self) -> str:
        added = f", added columns {', '.join(self.columns_added)}" if self.columns_added else ""
        return (
            f"raw.{self.table}: {self.mode}, {self.rows_read:,} read, {self.rows_inserted:,} inserted, "
            f"{self.rows_updated:,} updated, {self.rows_flagged_deleted:,} flagged deleted, "
            f"{self.bytes / 1e6:,.1f} MB in {self.seconds:.2f} s{added}"
        )


def load_all(ops_url: str, warehouse_url: str, **options) -> list[LoadResult]:
    """`load_table` for every registered table (audit_log included), in dependency order."""
    return [load_table(ops_url, warehouse_url, name, **options) for name in REGISTRY]


def load_table(
    ops_url: str,
    warehouse_url: str,
    table_name: str,
    *,
    full_refresh: bool = False,
    reconcile_keys: bool = False,
    lookback: timedelta = DEFAULT_LOOKBACK,
    lock_wait: timedelta | None = None,
    reader: str = "auto",
) -> LoadResult:
    """Load changed rows of app.<table_name> into raw.<table_name> (see the module docstring).

    The first load copies everything; later loads read rows with
    `updated_at >= watermark - lookback` (a per-table lookback in the registry wins);
    `full_refresh` rebuilds raw.<table> from the whole source inside the same single
    transaction (readers see the old rows until it commits, never an empty table), and
    adopts the source's current columns; `reconcile_keys` also compares all source keys
    with raw to flag hard deletes the audit log missed.
    """
    spec = table_spec(table_name)
    lookback = spec.lookback if spec.lookback is not None else lookback
    lock_wait = lock_wait if lock_wait is not None else timedelta(seconds=get_settings().extract_lock_wait_seconds)
    started_at, started = datetime.now().astimezone(), time.monotonic()
    with connect(warehouse_url) as warehouse, connect(ops_url) as source:
        meta.ensure(warehouse)
        meta.lock_table(warehouse, spec.name, lock_wait)
        state = meta.read_state(warehouse, spec.name)
        source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        source.read_only = True
        snapshot = source.execute("select pg_export_snapshot()").fetchone()[0]
        batch = Batch(spec, source, ops_url, snapshot, warehouse, uuid.uuid4(), reader)
        if not batch.source_columns:
            raise psycopg.errors.UndefinedTable(f"source table {SOURCE_SCHEMA}.{spec.name} does not exist")
        raw_columns = table_columns(warehouse, RAW_SCHEMA, spec.name)
        if not raw_columns:
            mode, lower = "full", None
            counts = batch.first_load()
        elif full_refresh:
            mode, lower = "full_refresh", None
            counts = batch.full_refresh(raw_columns)
        else:
            mode, lower = "incremental", watermark.lower_bound(state.watermark, lookback)
            counts = batch.incremental(raw_columns, lower, reconcile_keys)
        batch_max = batch.max_watermark(lower)
        audit_after = batch.flag_audited_deletes(
            watermark.lower_bound(state.audit_watermark, lookback), flag=(mode == "incremental")
        )
        counts = counts.plus_flagged(batch.flagged)
        result = LoadResult(
            table=spec.name,
            batch_id=batch.batch_id,
            mode=mode,
            rows_read=counts.read,
            rows_inserted=counts.inserted,
            rows_updated=counts.updated,
            rows_flagged_deleted=counts.flagged,
            bytes=counts.bytes,
            seconds=round(time.monotonic() - started, 3),
            watermark_before=state.watermark,
            watermark_after=watermark.advance(state.watermark, batch_max),
            audit_watermark_before=state.audit_watermark,
            audit_watermark_after=watermark.advance(state.audit_watermark, audit_after),
            columns_added=counts.columns_added,
        )
        meta.record(warehouse, result, started_at, reconciled=reconcile_keys or mode != "incremental")
        pause_point("upsert")
        warehouse.commit()
        source.rollback()
    log.info(result.summary())
    return result


__all__ = ["LoadResult", "LockTimeout", "load_all", "load_table"]
