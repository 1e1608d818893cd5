"""Benchmark of the dbt build (issue 4, item 14).

Measured in one run, on two scratch databases of the project's server (the demo's data is
never touched):
1. a full `dbt build` at the given scale (the baseline);
2. `--days` nights (6 by default), each: the warehouse left to settle (VACUUM ANALYZE,
   untimed: the day between two nightly builds), one day of app traffic (the generator's
   `simulate(days=1)`, as `warehouse source simulate --days 1`), extracted, then an
   incremental `dbt build`: by turns changed-only (as nightly runs build: the nodes with
   nothing new to read left out, pipelines.lib.build_plan) and of every node (the baseline
   of the first, in the same run). The median changed-only night is the figure, as a ratio
   of the full build (target <= 10 %), with the partitions of marts.fct_reservation_history
   it rebuilt (swapped) and patched (rows replaced in place); one night alone varied by +-2 s here;
3. for the busiest month, the lock held by the partition swap against a DELETE + INSERT
   of the same rows (the alternative the swap replaces), both measured here;
4. dbt's own floor: a build of the whole project with nothing changed on a tiny warehouse
   (scale 0.01), where the database has next to nothing to do. What remains is dbt's cost
   per node (compile, connection, catalog, logging: ~0.09 s each, on 2 threads), which no
   incremental strategy removes; and a changed-only build the night after, where only the run
   date changed: the nightly build above that floor is the part the models control;
5. one more night, changed-only, of the night's models alone (no data tests): what remains
   however many tests the catalog proves, since every night's changes reach about 30 models.
Every timed build runs in a new process, as a nightly run does (new_process_build): dbt's
import and first invocation cost the same in the baseline and in each night.
Results go to bench/results/transform.json (transform-scale<N>.json at another scale).

    python -m bench.transform [--scale 1] [--seed 1] [--reference-date 2026-11-01] [--days 6]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import psycopg

from pipelines.lib import collector
from pipelines.lib.databases import database_urls, mask_url
from pipelines.lib.dbt import DbtResult, dbt_build
from pipelines.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
OPS_DB, WAREHOUSE_DB = "kw_bench_transform_ops", "kw_bench_transform_wh"
FLOOR_OPS_DB, FLOOR_WAREHOUSE_DB, FLOOR_SCALE = "kw_bench_floor_ops", "kw_bench_floor_wh", 0.01
TARGET = PROJECT_ROOT / "target" / "bench_transform"


def results_file(scale: float):
    """transform.json at scale 1 (the issue's figure), transform-scale<N>.json at any other scale."""
    return RESULTS / ("transform.json" if scale == 1 else f"transform-scale{scale:g}.json")


def with_database(url: str, database: str) -> str:
    head, sep, query = url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{database}{sep}{query}"


def fresh_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return with_database(admin_url, name)


def new_process_build(*args, **kwargs) -> DbtResult:
    """dbt_build in a new interpreter, as every nightly run builds (`warehouse dbt build`, or
    Dagster's dbt step): each pays dbt's import and its first invocation (template compiling,
    schema building), about 2.6 s at scale 1 more than a second call in the same process.
    Every build this bench times runs this way, the full one and the nights alike."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as process:
        return process.submit(build_then_end, *args, **kwargs).result()


def build_then_end(*args, **kwargs) -> DbtResult:
    """dbt_build in a process about to end, which (like `warehouse` and `kennelworks-dbt`)
    leaves what it holds to the operating system instead of collecting it at exit."""
    try:
        return dbt_build(*args, **kwargs)
    finally:
        collector.freeze_for_exit()  # the pool's worker exits next


def extract(ops_url: str, warehouse_url: str):
    """The extraction into the bench's warehouse (`warehouse extract`).

    Imported here, not with the module: each timed build's process imports this module
    (multiprocessing's spawn), and the extraction brings SQLAlchemy and the source schema,
    which a nightly dbt build does not load."""
    from pipelines.lib.extract import load_all

    return load_all(ops_url, warehouse_url)


def timed(label: str, action):
    started = time.perf_counter()
    value = action()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f} s", flush=True)
    return value, seconds


def history_comment(warehouse_url: str) -> dict[str, str]:
    """The build record partitioned_by_month leaves on the table (watermark, rebuilt, months, swap_ms)."""
    with psycopg.connect(warehouse_url) as conn:
        ((comment,),) = conn.execute("select obj_description('marts.fct_reservation_history'::regclass, 'pg_class')")
    return dict(re.findall(r"(\w+)=([^;]+)", comment or ""))


def settle(warehouse_url: str) -> None:
    """Let the warehouse reach the state a nightly build finds it in: a day after the last
    build, autovacuum has long vacuumed and analyzed what that build wrote. Right after a
    full build it is still at work, and an incremental build measured then would share the
    two cores with it. VACUUM (ANALYZE) does that work now, untimed."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("vacuum (analyze)")


def night(ops_url: str, warehouse_url: str, changed_only: bool, data_tests: bool = True) -> dict:
    """One nightly cycle: settle, a day of traffic, its extraction, the incremental build
    (`changed_only`: as nightly runs build, leaving out the nodes with nothing new to read;
    `data_tests=False`: its models alone)."""
    _, settle_seconds = timed("settle (vacuum analyze, untimed)", lambda: settle(warehouse_url))
    traffic, _ = timed("simulate --days 1", lambda: simulate_one_day(ops_url))
    _, extract_seconds = timed("extract (one day)", lambda: extract(ops_url, warehouse_url))
    next_day = {"run_date": traffic.last_day.isoformat()}  # the build of the simulated day
    result, seconds = timed(
        f"dbt build (incremental{', changed only' if changed_only else ', every node'}"
        f"{'' if data_tests else ', models alone'})",
        lambda: new_process_build(
            warehouse_url, vars=next_day, target_path=TARGET, changed_only=changed_only, data_tests=data_tests
        ),
    )
    return {"traffic": traffic, "result": result, "seconds": seconds, "history": history_comment(warehouse_url),
            "settle": settle_seconds, "extract": extract_seconds, "changed_only": changed_only}  # fmt: skip


def simulate_one_day(ops_url: str):
    """One day of app traffic in the source (the generator's simulation, as `warehouse source simulate --days 1`)."""
    from pipelines.source.simulate import simulate

    return simulate(ops_url, days=1)


def delete_insert_month(warehouse_url: str, month: str) -> float:
    """Seconds a DELETE + INSERT of one month of the history takes (rolled back afterwards)."""
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "create temp table month_rows as select * from marts.fct_reservation_history "
            "where start_date >= %(month)s::date and start_date < %(month)s::date + interval '1 month'",
            {"month": month},
        )
        conn.commit()
        started = time.perf_counter()
        conn.execute(
            "delete from marts.fct_reservation_history "
            "where start_date >= %(month)s::date and start_date < %(month)s::date + interval '1 month'",
            {"month": month},
        )
        conn.execute("insert into marts.fct_reservation_history select * from month_rows")
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds


def source_rows(ops_url: str, table: str | None = None) -> int:
    """Rows of one source table, or of all of them (exact counts)."""
    from pipelines.source.schema import metadata

    tables = [table] if table else [t.name for t in metadata.sorted_tables]
    with psycopg.connect(ops_url) as conn:
        return sum(conn.execute(f"select count(*) from app.{name}").fetchone()[0] for name in tables)


def simulated_through(ops_url: str) -> dt.date:
    """The source's last day: the reference date, or the last day `simulate` added."""
    from pipelines.source.manifest import current_run

    with psycopg.connect(ops_url) as conn:
        return current_run(conn).simulated_through


def busiest_month(warehouse_url: str) -> tuple[str, int]:
    with psycopg.connect(warehouse_url) as conn:
        return conn.execute(
            "select date_trunc('month', start_date)::date::text, count(*) from marts.fct_reservation_history "
            "group by 1 order by 2 desc limit 1"
        ).fetchone()


def dbt_floor(admin_url: str, seed: int, reference_date: dt.date) -> tuple[float, int, float, int]:
    """(seconds, nodes) of a build of every node with nothing changed, on a warehouse of
    FLOOR_SCALE after a first build, then (seconds, nodes) of a changed-only build the night after.

    The run date moves by a day, as it does every night, so this includes what a new run
    date costs dbt (re-parsing the few files that read it) and, changed only, the nodes that read it.
    """
    from pipelines.source.generate import generate

    ops_url, warehouse_url = fresh_database(admin_url, FLOOR_OPS_DB), fresh_database(admin_url, FLOOR_WAREHOUSE_DB)
    generate(ops_url, scale=FLOOR_SCALE, seed=seed, reference_date=reference_date)
    extract(ops_url, warehouse_url)
    target = TARGET.with_name("bench_floor")
    dbt_build(warehouse_url, vars={"run_date": reference_date.isoformat()}, target_path=target)
    next_day = {"run_date": (reference_date + dt.timedelta(days=1)).isoformat()}
    result, seconds = timed(
        f"dbt build, nothing changed, scale {FLOOR_SCALE} (dbt's floor)",
        lambda: new_process_build(warehouse_url, vars=next_day, target_path=target),
    )
    day_after = {"run_date": (reference_date + dt.timedelta(days=2)).isoformat()}
    changed, changed_seconds = timed(
        f"dbt build, changed only, nothing changed but the run date, scale {FLOOR_SCALE}",
        lambda: new_process_build(warehouse_url, vars=day_after, target_path=target, changed_only=True),
    )
    return seconds, len(result.nodes), changed_seconds, len(changed.nodes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reference-date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 1))
    parser.add_argument(
        "--days", type=int, default=6, help="simulated nights, built changed-only and every node by turns"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the previous run's bench databases (no generation); the baseline is a --full-refresh build",
    )
    args = parser.parse_args(argv)
    from pipelines.source.generate import generate

    admin_url = database_urls().warehouse
    if args.reuse:
        ops_url, warehouse_url = with_database(admin_url, OPS_DB), with_database(admin_url, WAREHOUSE_DB)
        generated, generate_seconds, extract_seconds = None, 0.0, 0.0
    else:
        ops_url, warehouse_url = fresh_database(admin_url, OPS_DB), fresh_database(admin_url, WAREHOUSE_DB)
    print(f"bench databases on {mask_url(admin_url)}: {OPS_DB}, {WAREHOUSE_DB}", flush=True)

    if not args.reuse:
        generated, generate_seconds = timed(
            f"generate scale {args.scale}",
            lambda: generate(ops_url, scale=args.scale, seed=args.seed, reference_date=args.reference_date),
        )
        _, extract_seconds = timed("extract (first load)", lambda: extract(ops_url, warehouse_url))
    # The full build is the night of the source's last day, the incremental the next night, as
    # in production (a kept warehouse has simulated days past the reference date: building
    # the baseline at the reference date would move every run-date window by weeks).
    run_vars = {"run_date": simulated_through(ops_url).isoformat()}
    full, full_seconds = timed(
        "dbt build (full)",
        lambda: new_process_build(warehouse_url, vars=run_vars, full_refresh=args.reuse, target_path=TARGET),
    )
    full_history = history_comment(warehouse_url)

    # Changed-only nights (as nightly runs build) and nights building every node, by turns:
    # the second is this run's baseline for the first.
    nights = [night(ops_url, warehouse_url, changed_only=day % 2 == 0) for day in range(max(args.days, 1))]
    every_node = [each for each in nights if not each["changed_only"]]
    nights = [each for each in nights if each["changed_only"]]
    models_alone = night(ops_url, warehouse_url, changed_only=True, data_tests=False)
    median = sorted(nights, key=lambda each: each["seconds"])[(len(nights) - 1) // 2]
    traffic, incremental, incremental_seconds = median["traffic"], median["result"], median["seconds"]
    incremental_history, settle_seconds, day_extract_seconds = median["history"], median["settle"], median["extract"]

    month, month_rows = busiest_month(warehouse_url)
    delete_insert_seconds = delete_insert_month(warehouse_url, month)

    floor_seconds, floor_nodes, changed_floor_seconds, changed_floor_nodes = dbt_floor(
        admin_url, args.seed, args.reference_date
    )

    def busy_seconds(result):  # the nodes' own times added up, without the packing of 2 threads
        return round(sum(node.seconds for node in result.nodes), 1)

    def node_seconds(result, name):
        return round(next(node.seconds for node in result.nodes if node.name == name), 2)

    results = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "seed": args.seed,
        "run_date": run_vars["run_date"],
        "baseline": "--full-refresh build of the kept warehouse" if args.reuse else "first build of an empty warehouse",
        "timed_builds": "each in a new process, as a nightly run (dbt's import and first invocation included)",
        "source_rows": generated.total_rows if generated else source_rows(ops_url),
        "reservations": generated.rows.get("reservations") if generated else source_rows(ops_url, "reservations"),
        "generate_seconds": round(generate_seconds, 1),
        "extract_seconds": round(extract_seconds, 1),
        "full_build_seconds": round(full_seconds, 1),
        "settle_seconds": round(settle_seconds, 1),
        "full_build_nodes": len(full.nodes),
        "full_history_seconds": node_seconds(full, "fct_reservation_history"),
        "full_partitions_built": int(full_history.get("rebuilt", 0)),
        "nights": len(nights),
        "incremental_builds_seconds": [round(each["seconds"], 1) for each in nights],
        "full_node_seconds": busy_seconds(full),
        "incremental_node_seconds": [busy_seconds(each["result"]) for each in nights],
        "every_node_builds_seconds": [round(each["seconds"], 1) for each in every_node],
        "every_node_builds_nodes": [len(each["result"].nodes) for each in every_node],
        "every_node_node_seconds": [busy_seconds(each["result"]) for each in every_node],
        "incremental_builds_nodes": [len(each["result"].nodes) for each in nights],
        # tests left out because the catalog proves them (build_plan.catalog_claims)
        "incremental_tests_proven": [len(each["result"].proven) for each in nights],
        "simulated_day": traffic.last_day.isoformat(),
        "simulated_actions": traffic.actions,
        "day_extract_seconds": round(day_extract_seconds, 1),
        "incremental_build_seconds": round(incremental_seconds, 1),
        "incremental_history_seconds": node_seconds(incremental, "fct_reservation_history"),
        "incremental_partitions_rebuilt": int(incremental_history.get("rebuilt", 0)),
        "incremental_months": incremental_history.get("months", ""),
        "incremental_partitions_patched": int(incremental_history.get("patched", 0)),
        "incremental_patched_months": incremental_history.get("patched_months", ""),
        "incremental_over_full": round(incremental_seconds / full_seconds, 3),
        "incremental_history_over_full_history": round(
            node_seconds(incremental, "fct_reservation_history") / node_seconds(full, "fct_reservation_history"), 3
        ),
        "target_incremental_over_full": 0.10,
        "floor_scale": FLOOR_SCALE,
        "floor_build_seconds": round(floor_seconds, 1),
        "floor_build_nodes": floor_nodes,
        "floor_over_full": round(floor_seconds / full_seconds, 3),
        "changed_only_floor_seconds": round(changed_floor_seconds, 1),
        "changed_only_floor_nodes": changed_floor_nodes,
        # the nightly build above dbt's own cost for the same kind of build (changed-only, run date new)
        "incremental_above_floor_over_full": round((incremental_seconds - changed_floor_seconds) / full_seconds, 3),
        # the night's models without their tests (item 5 above)
        "models_alone_night_seconds": round(models_alone["seconds"], 1),
        "models_alone_night_nodes": len(models_alone["result"].nodes),
        "models_alone_over_full": round(models_alone["seconds"] / full_seconds, 3),
        "swap_lock_db_ms": float(incremental_history.get("swap_db_ms", "nan")),
        "swap_with_commit_ms": float(incremental_history.get("swap_ms", "nan")),
        "delete_insert_month": month,
        "delete_insert_month_rows": month_rows,
        "delete_insert_month_ms": round(delete_insert_seconds * 1000, 1),
        "slowest_full_nodes": sorted(
            ((node.name, round(node.seconds, 1)) for node in full.nodes), key=lambda pair: -pair[1]
        )[:10],
        "slowest_incremental_nodes": sorted(
            ((node.name, round(node.seconds, 1)) for node in incremental.nodes), key=lambda pair: -pair[1]
        )[:10],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    results_file(args.scale).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({key: value for key, value in results.items() if not key.startswith("slowest")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
