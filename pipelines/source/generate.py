"""Fill the operational source database with realistic, deterministic data.

`generate()` builds every table in memory with numpy (one RNG stream per table, drawn
from the seed), injects the requested anomalies, and loads it all with COPY in ONE
transaction: the app tables are truncated, refilled and re-indexed, and the run and its
anomaly manifest recorded in schema `generator`, or - on any error - nothing changes.
Same seed + reference date => identical rows, uuids and timestamps included.

Speed: during the load the session runs with `session_replication_role = replica`, so
neither the audit/updated_at triggers nor the FK checks fire (the builders keep FKs valid
by construction); every index, and the primary keys and unique constraints no foreign key
depends on, are dropped and rebuilt once after the COPY (tenant ids ascend, so the tables
built tenant by tenant feed their tenant-led indexes presorted rows). COPY is binary (no
text parsing on the server), formatted in a worker thread while the server loads the
previous chunk, into tables truncated in the same transaction, so it writes no WAL
(wal_level=minimal), and FREEZE spares the later vacuum. Where the time goes at scale 1
(bench/source.py): building ~10 s, COPY ~20 s (half of it parsing the activities' jsonb
routes), index builds ~20 s on two cores, commit and ANALYZE ~4 s.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import TypeVar

import psycopg

from pipelines.source import anomalies, build_billing, build_boarding, build_engagement, build_parties, vocab
from pipelines.source.anomalies import AnomalyRates
from pipelines.source.clock import Clock
from pipelines.source.copybinary import HEADER, TRAILER, copy_binary, pg_kind
from pipelines.source.copytext import copy_text
from pipelines.source.create import create_source_schema
from pipelines.source.manifest import Run, record_run, write_manifest
from pipelines.source.schema import SCHEMA, metadata
from pipelines.source.world import World

TENANTS_AT_SCALE_ONE = 50
MIN_TENANTS = 5  # enough zones (both hemispheres, DST and not) and tenants to cross
CHUNK_ROWS = 100_000
APP_TABLES = tuple(table.name for table in metadata.sorted_tables)  # parents before children
LOADED_TABLES = tuple(name for name in APP_TABLES if name != "audit_log")  # audit_log starts empty


T = TypeVar("T")


class GenerateError(Exception):
    """The generator cannot run as asked (bad arguments, insufficient privileges)."""


@dataclass(frozen=True)
class GenerateResult:
    rows: dict[str, int]
    seconds: float
    build_seconds: float
    load_seconds: float
    manifest_path: Path
    anomalies: dict[str, int]
    phases: dict[str, float]  # seconds: build, copy, index, commit, analyze (see _load)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0


BUILD_STEPS = (
    build_parties.build_tenants,
    build_parties.build_customers,
    build_parties.build_pets,
    build_boarding.draw_stays,
    build_boarding.build_resources,
    build_boarding.build_services,
    build_boarding.build_reservations,
    build_billing.build_invoices,
    build_engagement.build_teams,
    build_engagement.build_team_members,
    build_engagement.build_activities,
    build_engagement.build_achievements,
)


def build_world(
    *,
    scale: float,
    seed: int,
    reference_date: date,
    anomaly_rates: AnomalyRates | None = None,
    on_step: Callable[[str], None] = lambda name: None,
) -> tuple[World, list[dict]]:
    """Every table in memory plus the manifest entries; touches no database.

    Order matters: rows first, then row anomalies (which move activities and members),
    then the stats derived from the rows as they now are, then the stats drift.
    """
    if not scale > 0:
        raise GenerateError(f"scale must be greater than 0, got {scale}")
    rates = AnomalyRates() if anomaly_rates is None else anomaly_rates
    n_tenants = max(MIN_TENANTS, round(TENANTS_AT_SCALE_ONE * scale))
    zones = tuple(vocab.TIMEZONES[i % len(vocab.TIMEZONES)][0] for i in range(n_tenants))
    world = World(seed=seed, scale=scale, clock=Clock(reference_date, zones))
    for step in BUILD_STEPS:
        on_step(step.__name__.removeprefix("build_"))
        step(world)
    on_step("anomalies")
    injector = anomalies.inject_rows(world, rates)
    on_step("stats")
    build_engagement.derive_stats(world)
    anomalies.inject_stats(injector)
    return world, injector.entries


def generate(
    ops_url: str,
    *,
    scale: float,
    seed: int,
    reference_date: date,
    anomaly_rates: AnomalyRates | None = None,
    progress: bool = False,
    manifest_path: Path | None = None,
) -> GenerateResult:
    """(Re)create the app schema if missing and REPLACE its data; see the module docstring."""
    from pipelines.settings import get_settings

    rates = AnomalyRates() if anomaly_rates is None else anomaly_rates
    manifest_path = Path(manifest_path or get_settings().home / "source-manifest.json")
    started = time.perf_counter()
    with _progress(progress) as bar:
        build_task = bar.add_task("build", total=len(BUILD_STEPS) + 2) if bar else None

        def step(name: str) -> None:
            if bar:
                bar.update(build_task, advance=1, description=f"build {name}")

        world, entries = build_world(
            scale=scale, seed=seed, reference_date=reference_date, anomaly_rates=rates, on_step=step
        )
        built = time.perf_counter()
        create_source_schema(ops_url)
        run = Run(seed, scale, reference_date, reference_date)
        phases = {"build": built - started}
        rows = _load(ops_url, world, bar, lambda conn: record_run(conn, run, asdict(rates), entries), phases=phases)
    analyzing = time.perf_counter()
    _analyze(ops_url)
    phases["analyze"] = time.perf_counter() - analyzing
    write_manifest(manifest_path, run, entries)
    finished = time.perf_counter()
    return GenerateResult(
        rows=rows,
        seconds=finished - started,
        build_seconds=built - started,
        load_seconds=finished - built,
        manifest_path=manifest_path,
        anomalies=dict(Counter(entry["anomaly"] for entry in entries)),
        phases=phases,
    )


def _load(
    ops_url: str,
    world: World,
    bar,
    record: Callable[[psycopg.Connection], None],
    *,
    binary: bool = True,
    rebuild_indexes: bool = True,
    phases: dict[str, float] | None = None,
) -> dict[str, int]:
    """One transaction: truncate, COPY every table, rebuild indexes, `record(conn)` the run.

    `binary=False` (text COPY) and `rebuild_indexes=False` (load into the keys and indexes) exist
    for bench/source.py, which measures them against the defaults. `phases` receives the
    seconds spent in "copy" (with "copy <table>" for each table), "index" and "commit".
    """
    phases = {} if phases is None else phases
    rows = {name: world.rows(name) for name in LOADED_TABLES}
    task = bar.add_task("load", total=sum(rows.values())) if bar else None
    tables = ", ".join(f"{SCHEMA}.{name}" for name in APP_TABLES)
    with psycopg.connect(ops_url) as conn:
        try:
            conn.execute("set session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege as error:
            raise GenerateError(
                "generating needs a superuser on the ops database (to load with triggers off)"
            ) from error
        conn.execute(f"truncate {tables} restart identity")
        rebuilt = _rebuilt_keys(conn) if rebuild_indexes else []
        for drop, _ in rebuilt:
            conn.execute(drop)
        options = "format binary, freeze" if binary else "freeze"
        copying = mark = time.perf_counter()
        for name, chunks in groupby(_prefetched(_copy_jobs(world, rows, binary)), key=lambda chunk: chunk[0]):
            columns = ", ".join(world.tables[name])
            with conn.cursor().copy(f"copy {SCHEMA}.{name} ({columns}) from stdin with ({options})") as copy:
                copy.write(HEADER if binary else b"")
                for _, count, data in chunks:
                    copy.write(data)
                    if bar:
                        bar.update(task, advance=count, description=f"load {name}")
                copy.write(TRAILER if binary else b"")
            phases[f"copy {name}"], mark = time.perf_counter() - mark, time.perf_counter()
        phases["copy"] = mark - copying
        if bar:
            bar.update(task, description="index")
        for _, create in rebuilt:
            conn.execute(create)
        record(conn)
        phases["index"] = time.perf_counter() - mark
        committing = time.perf_counter()
    phases["commit"] = time.perf_counter() - committing
    return rows


def _rebuilt_keys(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(drop, create) SQL of what is cheaper to build once after the COPY than to maintain
    row by row: every index, and the primary keys and unique constraints no foreign key
    depends on (a btree built by sorting beats millions of random uuid inserts). Read from
    the catalog, so exactly what exists comes back.

    Dropping the foreign keys too, with the keys they need, measured no faster at scale 1:
    what the COPY of invoices and payments gains, checking the foreign keys added back costs."""
    return conn.execute(f"""
        select format('alter table %s drop constraint %I', conrelid::regclass, conname),
               format('alter table %s add constraint %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
        from pg_constraint
        where connamespace = '{SCHEMA}'::regnamespace and contype in ('p', 'u')
            and conindid not in (select conindid from pg_constraint where contype = 'f')
        union all
        select format('drop index %s', indexrelid::regclass), pg_get_indexdef(indexrelid)
        from pg_index
        where indrelid in (select oid from pg_class where relnamespace = '{SCHEMA}'::regnamespace)
            and indexrelid not in (select conindid from pg_constraint where contype in ('p', 'u'))
    """).fetchall()


def _copy_jobs(world: World, rows: dict[str, int], binary: bool) -> Iterator[Callable[[], tuple[str, int, bytes]]]:
    """One job per chunk of rows: encode it as binary COPY tuples (or COPY text)."""
    for name in LOADED_TABLES:
        frame = world.tables[name]
        kinds = [pg_kind(metadata.tables[f"{SCHEMA}.{name}"].c[column].type) for column in frame]
        for start in range(0, rows[name], CHUNK_ROWS):

            def job(name=name, frame=frame, start=start, kinds=kinds):
                chunk = [values[start : start + CHUNK_ROWS] for values in frame.values()]
                return name, len(chunk[0]), copy_binary(chunk, kinds) if binary else copy_text(chunk)

            yield job


def _prefetched(jobs: Iterable[Callable[[], T]]) -> Iterator[T]:
    """Results of `jobs` in order, each computed in a worker thread while the caller
    consumes the previous one: formatting (numpy) overlaps the server's COPY work."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for job in jobs:
            future = pool.submit(job)
            if pending is not None:
                yield pending.result()
            pending = future
        if pending is not None:
            yield pending.result()


def _analyze(ops_url: str) -> None:
    with psycopg.connect(ops_url, autocommit=True) as conn:
        conn.execute(f"analyze {', '.join(f'{SCHEMA}.{name}' for name in APP_TABLES)}")


@contextmanager
def _progress(enabled: bool) -> Iterator:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        yield bar
