"""Benchmark of the data-quality suites (issue 5, item 9): every suite at scale 1, target <= 60 s.

Measured in one run, on two scratch databases of the project's server (the demo's data is
never touched):
1. the baseline: every check's own query run once, directly, as `select count(*) from
   (<query>)`: one query per expectation, the least a runner of one query per
   expectation pays (GX's stock UnexpectedRowsExpectation runs each twice);
2. every suite of every layer through Great Expectations (`run_suites`: GX contexts,
   one scan per child table shared by its orphan or isolation expectations, one query
   per other expectation, results into dq.validation_results, Data Docs), per layer and
   in total, and its ratio to the baseline;
3. the slowest checks, so the next optimisation has a target.
The warehouse is built first (generate, extract, dbt build) unless `--reuse` finds one
built at the same scale and seed. Results go to bench/results/quality.json.

    python -m bench.quality [--scale 1] [--seed 1] [--reference-date 2026-11-01] [--reuse]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from expectations.catalog import LAYERS, suites_for
from expectations.runner import run_suites
from pipelines.lib.databases import database_urls
from pipelines.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results" / "quality.json"
OPS_DB, WAREHOUSE_DB = "kw_bench_quality_ops", "kw_bench_quality_wh"
TARGET_SECONDS = 60


def with_database(url: str, database: str) -> str:
    head, sep, query = url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{database}{sep}{query}"


def timed(label: str, action):
    started = time.perf_counter()
    value = action()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f} s", flush=True)
    return value, seconds


def built_at(ops_url: str, warehouse_url: str) -> tuple[float, int] | None:
    """(scale, seed) of a bench warehouse built to the end, or None."""
    try:
        with psycopg.connect(ops_url) as ops, psycopg.connect(warehouse_url) as warehouse:
            last_run = "select scale, seed from generator.runs order by generated_at desc limit 1"
            scale, seed = ops.execute(last_run).fetchone()
            if warehouse.execute("select to_regclass('reporting.rpt_finance_monthly')").fetchone()[0] is None:
                return None
            return float(scale), int(seed)
    except (psycopg.Error, TypeError):
        return None


def build(admin_url: str, scale: float, seed: int, run_date: dt.date) -> tuple[str, str, dict]:
    from pipelines.lib.dbt import dbt_build
    from pipelines.lib.extract import load_all
    from pipelines.source.generate import generate

    urls = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in (OPS_DB, WAREHOUSE_DB):
            conn.execute(f'drop database if exists "{name}" with (force)')
            conn.execute(f'create database "{name}"')
            urls.append(with_database(admin_url, name))
    ops, warehouse = urls
    generated, generate_seconds = timed(
        "generate", lambda: generate(ops, scale=scale, seed=seed, reference_date=run_date,
                                     manifest_path=Path(tempfile.gettempdir()) / "kw_bench_quality_manifest.json")
    )  # fmt: skip
    _, extract_seconds = timed("extract", lambda: load_all(ops, warehouse))
    _, dbt_seconds = timed("dbt build", lambda: dbt_build(warehouse, vars={"run_date": run_date.isoformat()}))
    return (
        ops,
        warehouse,
        {
            "source_rows": generated.total_rows,
            "generate_seconds": round(generate_seconds, 1),
            "extract_seconds": round(extract_seconds, 1),
            "dbt_build_seconds": round(dbt_seconds, 1),
        },
    )


def baseline(warehouse_url: str) -> tuple[float, list[tuple[float, str, str]]]:
    """Every check's query once, counted in the database: the work no runner can skip."""
    timings = []
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for layer in LAYERS:
            for suite in suites_for(layer):
                for check in suite.checks:
                    query = check.query.format(batch=suite.relation)
                    started = time.perf_counter()
                    conn.execute(f"select count(*) from ({query}) as unexpected").fetchone()
                    timings.append((time.perf_counter() - started, suite.name, check.name))
    return sum(seconds for seconds, _, _ in timings), sorted(timings, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reference-date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 1))
    parser.add_argument("--reuse", action="store_true", help="keep a bench warehouse built at this scale and seed")
    args = parser.parse_args(argv)

    admin = with_database(database_urls().warehouse, "postgres")
    ops, warehouse = with_database(admin, OPS_DB), with_database(admin, WAREHOUSE_DB)
    build_figures: dict = {"reused": True}
    if not (args.reuse and built_at(ops, warehouse) == (args.scale, args.seed)):
        ops, warehouse, build_figures = build(admin, args.scale, args.seed, args.reference_date)

    baseline_seconds, slowest = baseline(warehouse)
    print(f"baseline (one query per expectation): {baseline_seconds:.1f} s", flush=True)
    layers = {}
    outcomes = {}
    with tempfile.TemporaryDirectory() as gx_root:
        for layer in LAYERS:
            run, seconds = timed(f"GX suites, {layer}", lambda layer=layer: run_suites(
                warehouse, suites_for(layer), gx_project_root=Path(gx_root), checkpoint=f"bench_{layer}"))  # fmt: skip
            layers[layer] = round(seconds, 1)
            outcomes[layer] = {
                "suites": len(run.suites),
                "expectations": sum(len(s.outcomes) for s in run.suites),
                "failed": sorted(f"{o.expectation}={o.unexpected_count}" for s in run.suites for o in s.failed),
            }
    total = sum(layers.values())
    results = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "seed": args.seed,
        "run_date": args.reference_date.isoformat(),
        **build_figures,
        "baseline_one_query_per_expectation_seconds": round(baseline_seconds, 1),
        "gx_seconds_by_layer": layers,
        "gx_seconds_total": round(total, 1),
        "gx_over_baseline": round(total / baseline_seconds, 2) if baseline_seconds else None,
        "target_seconds": TARGET_SECONDS,
        "within_target": total <= TARGET_SECONDS,
        "outcomes": outcomes,
        "slowest_checks": [[round(seconds, 2), suite, check] for seconds, suite, check in slowest[:10]],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({key: value for key, value in results.items() if key != "slowest_checks"}, indent=2))
    print(f"written {RESULTS.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
