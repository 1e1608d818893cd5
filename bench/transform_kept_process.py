"""What a dbt process kept between nightly builds would save (issue 4's next steps).

On the warehouse `python -m bench.transform` left (its databases, any scale), `--nights`
nights (3 by default), each: settle, one simulated day, its extraction, then the changed-only
build in ONE worker process kept for all of them. The first night pays what every nightly
run pays today (a new interpreter, dbt's import, its first invocation: template compiling,
schema building); the later ones show what a dbt service keeping itself loaded would take.
The baseline is the full build of that bench.transform run (its results file at `--scale`,
which must be the warehouse's). Results go to bench/results/transform_kept_process.json
(-scale<N> at another scale). `make bench` runs it after bench.transform.

    python -m bench.transform_kept_process [--scale 1] [--nights 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from bench.transform import (
    OPS_DB,
    TARGET,
    WAREHOUSE_DB,
    extract,
    results_file,
    settle,
    simulate_one_day,
    with_database,
)
from pipelines.lib.databases import database_urls
from pipelines.lib.dbt import dbt_build, prepare_manifest


def changed_only_build(warehouse_url: str, run_date: str) -> tuple[int, float]:
    """(nodes, node seconds) of one changed-only build, in the worker process."""
    result = dbt_build(warehouse_url, vars={"run_date": run_date}, target_path=TARGET, changed_only=True)
    return len(result.nodes), sum(node.seconds for node in result.nodes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="the scale bench.transform last ran at")
    parser.add_argument("--nights", type=int, default=3)
    args = parser.parse_args(argv)
    baseline_file = results_file(args.scale)
    if not baseline_file.exists():
        print(f"error: {baseline_file} is missing: run `python -m bench.transform --scale {args.scale:g}` first",
              file=sys.stderr)  # fmt: skip
        return 2
    baseline = json.loads(baseline_file.read_text())
    admin_url = database_urls().warehouse
    ops_url, warehouse_url = with_database(admin_url, OPS_DB), with_database(admin_url, WAREHOUSE_DB)
    # Parsed first, untimed, when the project changed since: a nightly run finds it parsed
    # (`make demo` and Dagster's load prepare the manifest), and a parse would be 9 s of the first night.
    prepare_manifest(TARGET)
    nights = []
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as kept:
        for night in range(max(args.nights, 2)):
            settle(warehouse_url)
            traffic = simulate_one_day(ops_url)
            extract(ops_url, warehouse_url)
            started = time.perf_counter()
            nodes, node_seconds = kept.submit(changed_only_build, warehouse_url, traffic.last_day.isoformat()).result()
            seconds = time.perf_counter() - started
            process = "new" if night == 0 else "kept"
            print(f"night {night + 1} ({process} process): {seconds:.1f} s, {nodes} nodes", flush=True)
            nights.append({"process": process, "seconds": round(seconds, 1), "nodes": nodes,
                           "node_seconds": round(node_seconds, 1)})  # fmt: skip
    kept_seconds = sorted(each["seconds"] for each in nights[1:])
    kept_median = kept_seconds[(len(kept_seconds) - 1) // 2]
    full = baseline["full_build_seconds"]
    results = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "baseline": f"full build of bench.transform at {baseline['measured_at']} ({baseline_file.name})",
        "full_build_seconds": full,
        "nights": nights,
        "new_process_seconds": nights[0]["seconds"],
        "kept_process_median_seconds": kept_median,
        "new_process_over_full": round(nights[0]["seconds"] / full, 3),
        "kept_process_over_full": round(kept_median / full, 3),
    }
    out = baseline_file.with_name(baseline_file.name.replace("transform", "transform_kept_process"))
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
