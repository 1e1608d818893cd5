"""Fill the operational source database with realistic, deterministic data.

`generate()` builds every table in memory with numpy (one RNG stream per table, drawn
from the seed), injects the requested anomalies, and loads it all with COPY in ONE
transaction: the app tables are truncated, refilled and re-indexed, and the run and its
anomaly manifest recorded in schema `generator`, or - on any error - nothing changes.
Same seed + reference date => identical rows, uuids and timestamps included. The
transaction is run by a worker thread that starts on the tables no later step changes
(FINAL_AFTER: invoices and their lines, ...) while the rest is still being built, so the
server is not idle while Python builds.

Speed: during the load the session runs with `session_replication_role = replica`, so
neither the audit/updated_at triggers nor the FK checks fire (the builders keep FKs valid
by construction); every index, and the primary keys and unique constraints no foreign key
depends on, are dropped and rebuilt once after the COPY (tenant ids ascend, so the tables
built tenant by tenant feed their tenant-led indexes presorted rows). COPY is binary (no
text parsing on the server), formatted in a worker thread while the server loads the
previous chunk, into tables truncated in the same transaction, so it writes no WAL
(wal_level=minimal), and FREEZE spares the later vacuum; each table's keys and indexes
are rebuilt right after its COPY. Where the time goes at scale 1 (bench/source.py):
building ~10 s, COPY ~20 s (half of it parsing the activities' jsonb routes), index
builds ~20 s on two cores, commit and ANALYZE ~4 s.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from itertools import groupby
from pathlib import Path
from types import MappingProxyType
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


# Tables no later step changes (anomalies and stats only read them), by the step after
# which they are final: generate() loads them while the rest is still being built. They
# are frozen when handed over, so a later step that tried to change one would fail loudly.
FINAL_AFTER = {
    "build_invoices": ("tenants", "resources", "services", "invoices", "invoice_lines", "refunds"),
}

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
    on_final: Callable[[World, tuple[str, ...]], None] = lambda world, names: None,
) -> tuple[World, list[dict]]:
    """Every table in memory plus the manifest entries; touches no database.

    Order matters: rows first, then row anomalies (which move activities and members),
    then the stats derived from the rows as they now are, then the stats drift.
    `on_final(world, names)` is told when tables are final: those of FINAL_AFTER as soon as
    their step has run (frozen from then on), all the others at the end.
    """
    if not scale > 0:
        raise GenerateError(f"scale must be greater than 0, got {scale}")
    rates = AnomalyRates() if anomaly_rates is None else anomaly_rates
    n_tenants = max(MIN_TENANTS, round(TENANTS_AT_SCALE_ONE * scale))
    zones = tuple(vocab.TIMEZONES[i % len(vocab.TIMEZONES)][0] for i in range(n_tenants))
    world = World(seed=seed, scale=scale, clock=Clock(reference_date, zones))
    handed: list[str] = []
    for step in BUILD_STEPS:
        on_step(step.__name__.removeprefix("build_"))
        step(world)
        if names := FINAL_AFTER.get(step.__name__):
            _freeze(world, names)
            on_final(world, names)
            handed += names
    on_step("anomalies")
    injector = anomalies.inject_rows(world, rates)
    on_step("stats")
    build_engagement.derive_stats(world)
    anomalies.inject_stats(injector)
    on_final(world, tuple(name for name in LOADED_TABLES if name not in handed))
    return world, injector.entries


def _freeze(world: World, names: tuple[str, ...]) -> None:
    """Make tables read-only: their columns and the mapping of their columns."""
    for name in names:
        for values in world.tables[name].values():
            values.flags.writeable = False
        world.tables[name] = MappingProxyType(world.tables[name])


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
    if not scale > 0:
        raise GenerateError(f"scale must be greater than 0, got {scale}")
    started = time.perf_counter()
    create_source_schema(ops_url)
    phases: dict[str, float] = {}
    with _progress(progress) as bar, _Load(ops_url, bar, phases=phases) as load:
        build_task = bar.add_task("build", total=len(BUILD_STEPS) + 2) if bar else None

        def step(name: str) -> None:
            if bar:
                bar.update(build_task, advance=1, description=f"build {name}")

        world, entries = build_world(
            scale=scale,
            seed=seed,
            reference_date=reference_date,
            anomaly_rates=rates,
            on_step=step,
            on_final=load.copy,
        )
        built = phases["build"] = time.perf_counter() - started
        run = Run(seed, scale, reference_date, reference_date)
        load.commit(lambda conn: record_run(conn, run, asdict(rates), entries))
    analyzing = time.perf_counter()
    _analyze(ops_url)
    phases["analyze"] = time.perf_counter() - analyzing
    write_manifest(manifest_path, run, entries)
    finished = time.perf_counter()
    return GenerateResult(
        rows={name: world.rows(name) for name in LOADED_TABLES},
        seconds=finished - started,
        build_seconds=built,
        load_seconds=finished - started - built,
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
    """Load a built world in one transaction (see _Load) and `record(conn)` the run in it.

    `binary=False` (text COPY) and `rebuild_indexes=False` (load into the keys and indexes) exist
    for bench/source.py, which measures them against the defaults.
    """
    with _Load(ops_url, bar, binary=binary, rebuild_indexes=rebuild_indexes, phases=phases) as load:
        load.copy(world, LOADED_TABLES)
        load.commit(record)
    return {name: world.rows(name) for name in LOADED_TABLES}


class _Load:
    """The ONE transaction of a load, run step by step by a worker thread, so the caller
    can go on building while the server loads what is final: truncate every app table and
    drop the keys and indexes rebuilt after the COPY (`begin`), COPY tables and rebuild their
    keys and indexes in the order they are handed over (`copy`), then `record(conn)` and
    commit (`commit`). Leaving the `with` block any other way - an error here or in the
    caller - rolls everything back.

    `phases` receives the seconds spent in "copy" (with "copy <table>" for each table),
    "index" and "commit"; the COPY overlaps the caller's work, so they add up to more than
    the wall time of the load.
    """

    def __init__(self, ops_url: str, bar, *, binary: bool = True, rebuild_indexes: bool = True, phases=None):
        self.bar, self.binary, self.rebuild_indexes = bar, binary, rebuild_indexes
        self.phases = {} if phases is None else phases
        self.task, self.total = (bar.add_task("load", total=0) if bar else None), 0
        self.conn: psycopg.Connection | None = None
        self.rebuilt: dict[str, list[tuple[str, str]]] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="source-load")
        self._steps: list[Future] = []
        self._stop = threading.Event()
        self._do(self._begin, ops_url)

    def __enter__(self) -> _Load:
        return self

    def __exit__(self, error_type, *exc) -> None:
        self._stop.set()  # steps not started yet are skipped, a running COPY stops at its next chunk
        if error_type is not None and self.conn is not None:
            self.conn.cancel_safe()  # and a running statement (an index build) now
        try:
            self._worker.submit(self._close).result()
        finally:
            self._worker.shutdown()

    def copy(self, world: World, names: tuple[str, ...]) -> None:
        self._raise_failure()
        self.total += sum(map(world.rows, names))
        if self.bar:
            self.bar.update(self.task, total=self.total)
        self._do(self._copy, world, names)

    def commit(self, record: Callable[[psycopg.Connection], None]) -> None:
        self._do(self._commit, record)
        for step in self._steps:
            step.result()  # the first failure, if any

    def _do(self, step: Callable, *args) -> None:
        def guarded() -> None:
            if self._stop.is_set():
                return
            try:
                step(*args)
            except BaseException:
                self._stop.set()
                raise

        self._steps.append(self._worker.submit(guarded))

    def _raise_failure(self) -> None:
        for step in self._steps:
            if step.done() and step.exception():
                raise step.exception()

    def _begin(self, ops_url: str) -> None:
        self.conn = conn = psycopg.connect(ops_url)
        try:
            conn.execute("set session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege as error:
            raise GenerateError(
                "generating needs a superuser on the ops database (to load with triggers off)"
            ) from error
        conn.execute(f"truncate {', '.join(f'{SCHEMA}.{name}' for name in APP_TABLES)} restart identity")
        for table, drop, create in _rebuilt_keys(conn) if self.rebuild_indexes else []:
            conn.execute(drop)
            self.rebuilt.setdefault(table, []).append((drop, create))

    def _copy(self, world: World, names: tuple[str, ...]) -> None:
        options = "format binary, freeze" if self.binary else "freeze"
        phases, mark = self.phases, time.perf_counter()
        jobs = _prefetched(_copy_jobs(world, names, self.binary))
        for name, chunks in groupby(jobs, key=lambda chunk: chunk[0]):
            columns = ", ".join(world.tables[name])
            with self.conn.cursor().copy(f"copy {SCHEMA}.{name} ({columns}) from stdin with ({options})") as copy:
                copy.write(HEADER if self.binary else b"")
                for _, count, data in chunks:
                    if self._stop.is_set():
                        raise GenerateError("load stopped")
                    copy.write(data)
                    if self.bar:
                        self.bar.update(self.task, advance=count, description=f"load {name}")
                copy.write(TRAILER if self.binary else b"")
            copied = time.perf_counter()
            phases[f"copy {name}"] = copied - mark
            phases["copy"] = phases.get("copy", 0.0) + copied - mark
            if self.bar and name in self.rebuilt:
                self.bar.update(self.task, description=f"index {name}")
            for _, create in self.rebuilt.pop(name, []):
                self.conn.execute(create)
            mark = time.perf_counter()
            phases["index"] = phases.get("index", 0.0) + mark - copied

    def _commit(self, record: Callable[[psycopg.Connection], None]) -> None:
        for _, create in (pair for pairs in self.rebuilt.values() for pair in pairs):
            self.conn.execute(create)  # tables that were not loaded (audit_log starts empty)
        record(self.conn)
        committing = time.perf_counter()
        self.conn.commit()
        self.phases["commit"] = time.perf_counter() - committing

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()  # after commit() a no-op; otherwise the server rolls back


def _rebuilt_keys(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """(table, drop, create) SQL of what is cheaper to build once after the COPY than to maintain
    row by row: every index, and the primary keys and unique constraints no foreign key
    depends on (a btree built by sorting beats millions of random uuid inserts). Read from
    the catalog, so exactly what exists comes back.

    Dropping the foreign keys too, with the keys they need, measured no faster at scale 1:
    what the COPY of invoices and payments gains, checking the foreign keys added back costs."""
    rows = conn.execute(f"""
        select conrelid::regclass::text, format('alter table %s drop constraint %I', conrelid::regclass, conname),
               format('alter table %s add constraint %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
        from pg_constraint
        where connamespace = '{SCHEMA}'::regnamespace and contype in ('p', 'u')
            and conindid not in (select conindid from pg_constraint where contype = 'f')
        union all
        select indrelid::regclass::text, format('drop index %s', indexrelid::regclass), pg_get_indexdef(indexrelid)
        from pg_index
        where indrelid in (select oid from pg_class where relnamespace = '{SCHEMA}'::regnamespace)
            and indexrelid not in (select conindid from pg_constraint where contype in ('p', 'u'))
    """).fetchall()
    return [(table.rpartition(".")[2], drop, create) for table, drop, create in rows]


def _copy_jobs(world: World, names: Iterable[str], binary: bool) -> Iterator[Callable[[], tuple[str, int, bytes]]]:
    """One job per chunk of rows: encode it as binary COPY tuples (or COPY text)."""
    for name in names:
        frame = world.tables[name]
        kinds = [pg_kind(metadata.tables[f"{SCHEMA}.{name}"].c[column].type) for column in frame]
        for start in range(0, world.rows(name), CHUNK_ROWS):

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
