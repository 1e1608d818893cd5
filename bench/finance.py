"""Benchmark of the finance and engagement dbt models (issue 4, items 8-10).

Measured in one run, on two scratch databases of the project's server (the demo's data is
never touched):
1. the first `dbt build` of the finance/engagement models at the given scale (the baseline);
2. one day of app traffic (`simulate(days=1)`), extracted, then the same build again: its
   time as a ratio of the first, with the rows the archive took and the leaderboard
   inputs' changed rows;
3. readers of reporting.rpt_leaderboard_customers during a refresh: the longest a reader
   waited while REFRESH ... CONCURRENTLY ran (what dbt now does) against a plain REFRESH
   (dbt-postgres' default), each refresh timed too.
Results go to bench/results/finance.json.

    python -m bench.finance [--scale 0.1] [--seed 1] [--reference-date 2026-11-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
import time

import psycopg

from pipelines.lib.databases import database_urls, mask_url
from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all
from pipelines.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results" / "finance.json"
OPS_DB, WAREHOUSE_DB = "kw_bench_finance_ops", "kw_bench_finance_wh"
TARGET = PROJECT_ROOT / "target" / "bench_finance"
MODELS = [
    "+rpt_finance_monthly",
    "+rpt_ar_aging",
    "+rpt_leaderboard_customers",
    "+rpt_leaderboard_teams",
    "+rpt_stats_reconciliation",
]
LEADERBOARD = "reporting.rpt_leaderboard_customers"


def with_database(url: str, database: str) -> str:
    head, sep, query = url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{database}{sep}{query}"


def fresh_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return with_database(admin_url, name)


def build(warehouse_url: str, run_date: str) -> float:
    """Seconds of one `dbt build` of the finance/engagement models."""
    return dbt_build(warehouse_url, MODELS, {"run_date": run_date}, target_path=TARGET).seconds


def count(warehouse_url: str, relation: str) -> int:
    with psycopg.connect(warehouse_url) as conn:
        return conn.execute(f"select count(*) from {relation}").fetchone()[0]


def reader_wait_during(warehouse_url: str, statement: str) -> tuple[float, float]:
    """(seconds `statement` took, longest single read of the leaderboard meanwhile, in seconds).

    A reader thread reads the leaderboard in a loop, each read in its own transaction, the
    way a dashboard polls; the longest read is how long a reader was blocked.
    """
    done = threading.Event()
    longest = [0.0]

    def read() -> None:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            while not done.is_set():
                started = time.perf_counter()
                conn.execute(f"select count(*) from {LEADERBOARD}").fetchone()
                longest[0] = max(longest[0], time.perf_counter() - started)
                time.sleep(0.005)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.2)
    try:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            started = time.perf_counter()
            conn.execute(statement)
            seconds = time.perf_counter() - started
        time.sleep(0.2)
    finally:
        done.set()
        reader.join()
    return seconds, longest[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.finance", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reference-date", default="2026-11-01", help="source generator's today (ISO date)")
    args = parser.parse_args(argv)
    from pipelines.source.generate import generate
    from pipelines.source.simulate import simulate

    admin = database_urls().warehouse
    ops_url, warehouse_url = fresh_database(admin, OPS_DB), fresh_database(admin, WAREHOUSE_DB)
    print(f"bench finance: scale {args.scale} on {mask_url(warehouse_url)}", flush=True)
    reference = dt.date.fromisoformat(args.reference_date)
    generate(ops_url, scale=args.scale, seed=args.seed, reference_date=reference)
    load_all(ops_url, warehouse_url)

    first = build(warehouse_url, args.reference_date)
    archived_first = count(warehouse_url, "archive.financial_transactions")
    print(f"first build: {first:.1f} s, {archived_first} archived", flush=True)

    simulate(ops_url, days=1)
    load_all(ops_url, warehouse_url)
    next_day = (reference + dt.timedelta(days=1)).isoformat()
    second = build(warehouse_url, next_day)
    archived_second = count(warehouse_url, "archive.financial_transactions")
    print(
        f"next-day build: {second:.1f} s ({second / first:.0%} of the first), "
        f"{archived_second - archived_first} more archived",
        flush=True,
    )

    concurrent = reader_wait_during(warehouse_url, f"refresh materialized view concurrently {LEADERBOARD}")
    plain = reader_wait_during(warehouse_url, f"refresh materialized view {LEADERBOARD}")
    print(
        f"leaderboard refresh: concurrently {concurrent[0]:.2f} s, longest read {concurrent[1] * 1000:.0f} ms; "
        f"plain {plain[0]:.2f} s, longest read {plain[1] * 1000:.0f} ms",
        flush=True,
    )

    results = {
        "scale": args.scale,
        "seed": args.seed,
        "reference_date": args.reference_date,
        "rows": {
            "ledger": count(warehouse_url, "intermediate.int_financial_transactions"),
            "live": count(warehouse_url, "marts.fct_financial_transactions"),
            "archive": archived_second,
            "leaderboard_customers": count(warehouse_url, LEADERBOARD),
        },
        "first_build_s": round(first, 2),
        "next_day_build_s": round(second, 2),
        "next_day_ratio": round(second / first, 3),
        "archived_next_day": archived_second - archived_first,
        "refresh_concurrently_s": round(concurrent[0], 3),
        "refresh_concurrently_longest_read_ms": round(concurrent[1] * 1000, 1),
        "refresh_plain_s": round(plain[0], 3),
        "refresh_plain_longest_read_ms": round(plain[1] * 1000, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in (OPS_DB, WAREHOUSE_DB):
            conn.execute(f'drop database if exists "{name}" with (force)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
