"""The steps of one load (stage, upsert, first load, full refresh, delete flags), on shared connections.

Every step writes inside the load's single warehouse transaction and reads the
source's exported snapshot; `load_table` (load.py) decides which steps run and commits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from pipelines.lib.extract.copy import choose_reader, copy_between
from pipelines.lib.extract.drift import Column, plan_columns
from pipelines.lib.extract.registry import LOAD_COLUMN_NAMES, RAW_SCHEMA, SOURCE_SCHEMA, TableSpec
from pipelines.lib.raw_changes import CHANGED_AT
from pipelines.settings import get_settings

STAGE = sql.Identifier("_kw_stage")
DELETED = sql.Identifier("_kw_deleted")
KEYS = sql.Identifier("_kw_keys")
# Types IS DISTINCT FROM cannot compare (no default equality operator): compared as text.
NO_EQUALITY_TYPES = frozenset({"json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle"})


def pause_point(name: str) -> None:
    """Test hook: block forever here when settings name this point, so a test can kill us here."""
    if get_settings().extract_pause_at == name:
        print(f"paused at {name}", flush=True)
        while True:
            time.sleep(3600)


@dataclass(frozen=True)
class Counts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    flagged: int = 0
    bytes: int = 0
    columns_added: tuple[str, ...] = ()

    def plus_flagged(self, flagged: int) -> Counts:
        return Counts(self.read, self.inserted, self.updated, self.flagged + flagged, self.bytes, self.columns_added)


def table_columns(conn: psycopg.Connection, schema: str, table: str) -> list[Column]:
    """(name, type) of a table's live columns in order; [] when the table does not exist."""
    rows = conn.execute(
        """
        select attribute.attname, format_type(attribute.atttypid, attribute.atttypmod)
        from pg_attribute as attribute
        join pg_class as relation on relation.oid = attribute.attrelid
        join pg_namespace as namespace on namespace.oid = relation.relnamespace
        where namespace.nspname = %s and relation.relname = %s
            and attribute.attnum > 0 and not attribute.attisdropped
        order by attribute.attnum
        """,
        (schema, table),
    ).fetchall()
    return [(name, kind) for name, kind in rows]


def _ids(names) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def _definitions(columns: list[Column]) -> sql.Composable:
    # Types come from the source's own catalog (format_type), never from user input.
    return sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in columns)


class Batch:
    """The steps of one load, sharing its connections, snapshot, batch id and table names."""

    def __init__(self, spec: TableSpec, source, source_url, snapshot, warehouse, batch_id, reader):
        self.spec = spec
        self.source = source
        self.source_url = source_url
        self.snapshot = snapshot
        self.warehouse = warehouse
        self.batch_id = batch_id
        self.reader = reader
        self.source_columns = table_columns(source, SOURCE_SCHEMA, spec.name)
        self.names = [name for name, _ in self.source_columns]
        self.raw = sql.Identifier(RAW_SCHEMA, spec.name)
        self.app = sql.Identifier(SOURCE_SCHEMA, spec.name)
        self.pk = _ids(spec.primary_key)
        self.flagged = 0

    # -- copying -------------------------------------------------------------

    def _copy(
        self, select: sql.Composable, target: sql.Composable, *, whole_table: bool, pause: bool = True,
        freeze: bool = False,
    ):  # fmt: skip
        copy_out = sql.SQL("copy ({}) to stdout (format binary)").format(select)
        options = sql.SQL("format binary, freeze") if freeze else sql.SQL("format binary")
        copy_from = sql.SQL("copy {} from stdin ({})").format(target, options)
        reader = self.reader
        if reader == "auto":
            reader = choose_reader(self._estimated_rows() if whole_table else 0)
        with self.warehouse.cursor() as cursor:
            return copy_between(
                self.source, self.source_url, self.snapshot, copy_out, cursor, copy_from,
                reader=reader, on_first_block=(lambda: pause_point("copy")) if pause else None,
            )  # fmt: skip

    def _estimated_rows(self) -> int:
        """The planner's row estimate for the whole source table (free, and close enough to pick a reader)."""
        (estimate,) = self.source.execute(
            "select greatest(reltuples, 0)::bigint from pg_class where oid = %s::regclass", (f"app.{self.spec.name}",)
        ).fetchone()
        return estimate

    def _select_rows(self, lower: datetime | None) -> sql.Composable:
        select = sql.SQL("select {} from {}").format(_ids(self.names), self.app)
        if lower is None:
            return select
        return select + sql.SQL(" where {} >= {}").format(
            sql.Identifier(self.spec.watermark_column), sql.Literal(lower)
        )

    def _stage(self, lower: datetime | None) -> tuple[int, int]:
        """Copy the batch's source rows into a temporary table (no WAL); returns (rows, bytes)."""
        self.warehouse.execute(
            sql.SQL("create temporary table {} ({}) on commit drop").format(STAGE, _definitions(self.source_columns))
        )
        target = sql.SQL("{} ({})").format(STAGE, _ids(self.names))
        copied = self._copy(self._select_rows(lower), target, whole_table=lower is None)
        # The planner needs the row count and the keys' spread; sampling every column
        # (wide notes included) cost 30-50 ms of a 0.2 s incremental load.
        self.warehouse.execute(sql.SQL("analyze {} ({})").format(STAGE, self.pk))
        return copied.rows, copied.bytes

    # -- the three modes -------------------------------------------------------

    def first_load(self) -> Counts:
        """Create raw.<table> and COPY straight into it; the keys are built after the data.

        The table is created in this transaction, so with wal_level=minimal its COPY
        writes no WAL, and one index build is far cheaper than a million index inserts.
        Readers never see a half-loaded table: it does not exist for them until the commit.
        """
        load_definitions = sql.SQL(", ").join(
            [
                sql.SQL("_extracted_at timestamp with time zone not null default now()"),
                sql.SQL("_batch_id uuid not null default {}").format(sql.Literal(str(self.batch_id))),
                sql.SQL("_deleted_in_source_at timestamp with time zone"),
            ]
        )
        self.warehouse.execute(
            sql.SQL("create table {} ({}, {})").format(self.raw, _definitions(self.source_columns), load_definitions)
        )
        target = sql.SQL("{} ({})").format(self.raw, _ids(self.names))
        # FREEZE (allowed: the table is new in this transaction) writes rows already frozen
        # with hint bits set, so the first upsert or dbt scan does not rewrite every page.
        copied = self._copy(self._select_rows(None), target, whole_table=True, freeze=True)
        self.warehouse.execute(
            sql.SQL(
                "alter table {} alter column _extracted_at drop default, alter column _batch_id drop default"
            ).format(self.raw)
        )
        self._build_keys()
        self._analyze()
        return Counts(read=copied.rows, inserted=copied.rows, bytes=copied.bytes)

    def _analyze(self) -> None:
        """Statistics for the planner before anyone reads the new table.

        Autovacuum analyzes a new table a minute or so after its load; a dbt build started
        in between planned on no statistics at all (fct_activities: 79.6 s instead of 6.1 s
        at scale 1, 291 s at scale 3). A coarse sample is enough to plan on and costs
        0.03 s for a million reservations; the default one costs 0.3 s, a tenth of the
        load itself. Autovacuum refines the statistics as the table changes.
        """
        self.warehouse.execute("set local default_statistics_target = 10")
        self.warehouse.execute(sql.SQL("analyze {}").format(self.raw))
        self.warehouse.execute("reset default_statistics_target")

    def _build_keys(self) -> None:
        self.warehouse.execute(sql.SQL("alter table {} add primary key ({})").format(self.raw, self.pk))
        if "tenant_id" in self.names:
            self.warehouse.execute(
                sql.SQL("create index if not exists {} on {} (tenant_id)").format(
                    sql.Identifier(f"{self.spec.name}_tenant_id_idx"), self.raw
                )
            )
        self._build_change_index()

    def _build_change_index(self) -> None:
        """Indexes on when each row last changed for the warehouse (CHANGED_AT), and on each
        column naming a row of another table (TableSpec.references).

        dbt's incremental models start from the rows changed since their last build
        (`int_*_changes` views filter staging on this very expression, which the planner
        matches through the view): at scale 1 the index turns a 340 ms scan of 3M activities
        into a lookup of the day's 2,000, for each of the two models that read them. It costs
        0.9 s on a first load of those 3M rows. The same views find the rows whose parent
        changed by the parent's key (kw_change_causes): the lines of a night's 1,100 changed
        invoices through the invoice_id index instead of a scan of 1.8M lines (0.3 s at
        scale 1). `if not exists`: a warehouse landed before an index gets it at its next load.
        """
        self.warehouse.execute(
            sql.SQL("create index if not exists {} on {} (({}))").format(
                sql.Identifier(f"{self.spec.name}_changed_at_idx"), self.raw, CHANGED_AT
            )
        )
        for column in self.spec.references:
            if column in self.names:
                self.warehouse.execute(
                    sql.SQL("create index if not exists {} on {} ({})").format(
                        sql.Identifier(f"{self.spec.name}_{column}_idx"), self.raw, sql.Identifier(column)
                    )
                )

    def incremental(self, raw_columns: list[Column], lower: datetime | None, reconcile: bool) -> Counts:
        """Upsert the changed rows; only rows that really differ are written."""
        plan = plan_columns(self.spec.raw_name, self.source_columns, self._without_load_columns(raw_columns))
        for name, kind in plan.added:
            self.warehouse.execute(
                sql.SQL("alter table {} add column {} {}").format(self.raw, sql.Identifier(name), sql.SQL(kind))
            )
        self._build_change_index()
        rows, size = self._stage(lower)
        inserted, updated = self._upsert()
        if reconcile:
            self.flagged += self._flag_missing_keys()
        return Counts(read=rows, inserted=inserted, updated=updated, bytes=size,
                       columns_added=tuple(name for name, _ in plan.added))  # fmt: skip

    def full_refresh(self, raw_columns: list[Column]) -> Counts:
        """Rebuild raw.<table> in place from the whole source, adopting the source's columns.

        TRUNCATE keeps the table's identity, so dbt views and grants on it survive (a
        swap by rename would leave views pointing at the old table). It runs in the load's
        transaction: readers see the old rows until the TRUNCATE, then wait on its lock
        until the commit and see the new rows, never an empty table. (A REPEATABLE READ
        transaction whose snapshot predates the commit would see it empty: TRUNCATE, like
        a swap, is not MVCC-safe for old snapshots.) Rows no longer in the source are
        carried over, flagged as deleted.
        """
        old = self._without_load_columns(raw_columns)
        rows, size = self._stage(None)
        keep = sql.SQL("create temporary table _kw_gone on commit drop as select * from {} as raw_row "
                       "where not exists (select from {} as staged where ({}) = ({}))").format(
            self.raw, STAGE, self._qualified("staged"), self._qualified("raw_row"))  # fmt: skip
        self.warehouse.execute(keep)
        (inserted,) = self.warehouse.execute(
            sql.SQL(
                "select count(*) from {} as staged where not exists (select from {} as raw_row where ({}) = ({}))"
            ).format(STAGE, self.raw, self._qualified("staged"), self._qualified("raw_row"))
        ).fetchone()
        self.warehouse.execute(sql.SQL("truncate {}").format(self.raw))
        added = self._adopt_source_columns(old)
        self.warehouse.execute(
            sql.SQL("insert into {} ({}, _extracted_at, _batch_id) select {}, now(), {} from {}").format(
                self.raw, _ids(self.names), _ids(self.names), sql.Literal(str(self.batch_id)), STAGE
            )
        )
        kept = [name for name, _ in old if name in self.names]
        casts = sql.SQL(", ").join(
            sql.SQL("{}::{}").format(sql.Identifier(name), sql.SQL(kind))
            for name, kind in self.source_columns
            if name in kept
        )
        self.warehouse.execute(
            sql.SQL(
                "insert into {} ({}, _extracted_at, _batch_id, _deleted_in_source_at) "
                "select {}, case when _deleted_in_source_at is null then now() else _extracted_at end, "
                "case when _deleted_in_source_at is null then {} else _batch_id end, "
                "coalesce(_deleted_in_source_at, now()) from _kw_gone"
            ).format(self.raw, _ids([n for n in self.names if n in kept]), casts, sql.Literal(str(self.batch_id)))
        )
        # every gone row is kept; only those not flagged before count as flagged by this batch
        gone = "select count(*) from _kw_gone where _deleted_in_source_at is null"
        (newly,) = self.warehouse.execute(gone).fetchone()
        self.flagged += newly
        return Counts(read=rows, inserted=inserted, updated=rows - inserted, bytes=size, columns_added=added)

    # -- pieces ---------------------------------------------------------------

    @staticmethod
    def _without_load_columns(columns: list[Column]) -> list[Column]:
        return [(name, kind) for name, kind in columns if name not in LOAD_COLUMN_NAMES]

    def _qualified(self, alias: str) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(alias, name) for name in self.spec.primary_key)

    def _adopt_source_columns(self, old: list[Column]) -> tuple[str, ...]:
        """On the emptied raw table: drop vanished columns, retype changed ones, add new ones."""
        source_types = dict(self.source_columns)
        for name, kind in old:
            if name not in source_types:
                self.warehouse.execute(sql.SQL("alter table {} drop column {}").format(self.raw, sql.Identifier(name)))
            elif source_types[name] != kind:
                self.warehouse.execute(
                    sql.SQL("alter table {} alter column {} type {} using null").format(
                        self.raw, sql.Identifier(name), sql.SQL(source_types[name])
                    )
                )
        old_names = {name for name, _ in old}
        added = tuple((name, kind) for name, kind in self.source_columns if name not in old_names)
        for name, kind in added:
            self.warehouse.execute(
                sql.SQL("alter table {} add column {} {}").format(self.raw, sql.Identifier(name), sql.SQL(kind))
            )
        return tuple(name for name, _ in added)

    @staticmethod
    def _comparable(alias: str, name: str, kind: str) -> sql.Composable:
        """The column as the change test compares it: types without an equality operator as text."""
        column = sql.Identifier(alias, name)
        return sql.SQL("{}::text").format(column) if kind in NO_EQUALITY_TYPES else column

    def _row(self, alias: str) -> sql.Composable:
        return sql.SQL(", ").join(self._comparable(alias, name, kind) for name, kind in self.source_columns)

    def _upsert(self) -> tuple[int, int]:
        """INSERT ... ON CONFLICT DO UPDATE only where the row differs; returns (inserted, updated).

        Staged rows identical to raw (the lookback re-reads many) are filtered out before
        the INSERT: ON CONFLICT locks every conflicting row, even one its WHERE skips,
        and that lock dirties the page and writes WAL for nothing. (`_deleted_in_source_at
        is null` stays a separate test: folded into the row comparison, the planner
        misjudges it and scans raw once per staged row.)
        """
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = excluded.{}").format(sql.Identifier(name), sql.Identifier(name)) for name in self.names
        )
        current, incoming, staged = self._row("raw_row"), self._row("excluded"), self._row("staged")
        statement = sql.SQL(
            """
            with upserted as (
                insert into {raw} as raw_row ({columns}, _extracted_at, _batch_id, _deleted_in_source_at)
                select {columns}, now(), {batch}, null from {stage} as staged
                where not exists (
                    select from {raw} as raw_row
                    where ({raw_key}) = ({staged_key})
                        and raw_row._deleted_in_source_at is null
                        and ({current}) is not distinct from ({staged})
                )
                on conflict ({pk}) do update set
                    {assignments},
                    _extracted_at = excluded._extracted_at,
                    _batch_id = excluded._batch_id,
                    _deleted_in_source_at = null
                where ({current}, raw_row._deleted_in_source_at) is distinct from ({incoming}, null)
                returning old.{first_key} is null as is_insert
            )
            select count(*) filter (where is_insert), count(*) filter (where not is_insert) from upserted
            """
        ).format(
            raw=self.raw, columns=_ids(self.names), batch=sql.Literal(str(self.batch_id)), stage=STAGE,
            pk=self.pk, assignments=assignments, current=current, incoming=incoming, staged=staged,
            raw_key=self._qualified("raw_row"), staged_key=self._qualified("staged"),
            first_key=sql.Identifier(self.spec.primary_key[0]),
        )  # fmt: skip
        # raw is read through its primary key, page by page, from memory or SSD: at the
        # default random_page_cost (4, spinning disks) the planner hash-joins a batch of
        # 8k staged rows against a seq scan of all 1M raw rows (250 ms instead of 25 ms).
        self.warehouse.execute("set local random_page_cost = 1.1")
        inserted, updated = self.warehouse.execute(statement).fetchone()
        return inserted, updated

    def _flag_missing_keys(self) -> int:
        """Anti-join of raw against every source key (same snapshot): catches deletes the audit log missed."""
        key_columns = [(name, kind) for name, kind in self.source_columns if name in self.spec.primary_key]
        self.warehouse.execute(
            sql.SQL("create temporary table {} ({}) on commit drop").format(KEYS, _definitions(key_columns))
        )
        self._copy(sql.SQL("select {} from {}").format(self.pk, self.app), KEYS, whole_table=True, pause=False)
        self.warehouse.execute(sql.SQL("analyze {}").format(KEYS))
        return self.warehouse.execute(
            sql.SQL(
                "update {} as raw_row set _deleted_in_source_at = now(), _extracted_at = now(), _batch_id = {} "
                "where raw_row._deleted_in_source_at is null "
                "and not exists (select from {} as source_key where ({}) = ({}))"
            ).format(
                self.raw,
                sql.Literal(str(self.batch_id)),
                KEYS,
                self._qualified("source_key"),
                self._qualified("raw_row"),
            )  # fmt: skip
        ).rowcount

    def max_watermark(self, lower: datetime | None) -> datetime | None:
        """max(updated_at) of exactly the rows this batch read (same snapshot, same predicate)."""
        column = sql.Identifier(self.spec.watermark_column)
        query = sql.SQL("select max({}) from {}").format(column, self.app)
        if lower is not None:
            query += sql.SQL(" where {} >= {}").format(column, sql.Literal(lower))
        return self.source.execute(query).fetchone()[0]

    def flag_audited_deletes(self, lower: datetime | None, *, flag: bool) -> datetime | None:
        """Flag raw rows whose DELETE the audit log recorded since `lower`; returns the newest one seen.

        Only single-column keys are audited (audit_log.record_id); audit_log itself is not.
        A key that is back in this batch (deleted, then inserted again) is not flagged.
        """
        if len(self.spec.primary_key) != 1 or self.spec.name == "audit_log":
            return None
        if not flag:  # a first load or a refresh already reflects every delete: only move the watermark
            return self.source.execute(
                "select max(changed_at) from app.audit_log where table_name = %s and action = 'DELETE'",
                (self.spec.name,),
            ).fetchone()[0]
        deletes = self.source.execute(
            "select record_id, max(changed_at) from app.audit_log "
            "where table_name = %s and action = 'DELETE' and changed_at >= coalesce(%s::timestamptz, '-infinity') "
            "group by record_id",
            (self.spec.name, lower),
        ).fetchall()
        if not deletes:
            return None
        newest = max(changed_at for _, changed_at in deletes)
        self.warehouse.execute(
            sql.SQL(
                "create temporary table {} (record_id uuid primary key, deleted_at timestamptz) on commit drop"
            ).format(DELETED)
        )
        with self.warehouse.cursor().copy(sql.SQL("copy {} from stdin").format(DELETED)) as into:
            for row in deletes:
                into.write_row(row)
        key = sql.Identifier(self.spec.primary_key[0])
        self.flagged += self.warehouse.execute(
            sql.SQL(
                "update {raw} as raw_row set _deleted_in_source_at = deleted.deleted_at, "
                "_extracted_at = now(), _batch_id = {batch} "
                "from {deleted} as deleted "
                "where raw_row.{key} = deleted.record_id and raw_row._deleted_in_source_at is null "
                "and not exists (select from {stage} as staged where staged.{key} = deleted.record_id)"
            ).format(raw=self.raw, batch=sql.Literal(str(self.batch_id)), deleted=DELETED, key=key, stage=STAGE)
        ).rowcount
        return newest
