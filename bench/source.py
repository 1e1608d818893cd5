"""Source generator throughput: how the bulk load is done, every variant in the same run.

  (a) the product: binary COPY, secondary indexes dropped and rebuilt after the data;
  (b) text COPY, same index handling (the usual way);
  (c) binary COPY into the live indexes.
The world is built once (its build time is reported apart); each variant then replaces
the data of one bench database in one transaction, `--repeat` times alternately, and
the best time of each counts (the machine is shared). Reported: rows/s per variant and
its ratio to (b), the CPU seconds spent by this process and by the server (robust to
the contention that inflates wall time), the seconds per phase of the best run (COPY per
table, index rebuild, commit), plus the full `generate()` for the product.

Usage: python -m bench.source [--scale 0.1] [--seed 1] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from pipelines.lib.databases import database_urls
from pipelines.settings import PROJECT_ROOT, get_settings
from pipelines.source import generate as generator
from pipelines.source.create import create_source_schema

RESULTS = PROJECT_ROOT / "bench" / "results" / "source.json"
DATABASE = "bench_source_ops"
REFERENCE_DATE = date(2026, 11, 1)
VARIANTS = {
    "binary_rebuild_indexes": {"binary": True, "rebuild_indexes": True},
    "text_rebuild_indexes": {"binary": False, "rebuild_indexes": True},
    "binary_into_indexes": {"binary": True, "rebuild_indexes": False},
}
BASELINE = "text_rebuild_indexes"
MAIN_PHASES = ("build", "copy", "index", "commit", "analyze")  # the rest are "copy <table>"


def _bench_database() -> str:
    ops = database_urls().ops
    head, sep, query = ops.partition("?")
    url = f"{head.rsplit('/', 1)[0]}/{DATABASE}{sep}{query}"
    with psycopg.connect(ops, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
            conn.execute(f'create database "{DATABASE}"')
    create_source_schema(url)
    return url


def _server_cpu_seconds() -> float:
    """CPU seconds used so far by the embedded server: the postmaster, its live children and
    the children it has reaped (parallel index-build workers). The dev server serves this
    bench alone, so the difference across a load is the load's server-side CPU, which the
    shared machine's contention does not inflate the way it inflates wall time."""
    pid = int((get_settings().pgdata / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")

    def fields(process: int) -> list[str]:
        return Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()

    own = fields(pid)
    total = sum(int(v) for v in own[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = fields(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(child[1]) == pid:
                total += int(child[11]) + int(child[12])
    return total / tick


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.source", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    url = _bench_database()

    started = time.perf_counter()
    world, _ = generator.build_world(scale=args.scale, seed=args.seed, reference_date=REFERENCE_DATE)
    build_seconds = time.perf_counter() - started
    rows = sum(world.rows(name) for name in generator.LOADED_TABLES)
    best: dict[str, float] = {}
    cpu: dict[str, tuple[float, float]] = {}
    phases: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for name, options in VARIANTS.items():
            started, client, server = time.perf_counter(), time.process_time(), _server_cpu_seconds()
            timings: dict[str, float] = {}
            generator._load(url, world, None, lambda conn: None, **options, phases=timings)
            seconds = time.perf_counter() - started
            used = (time.process_time() - client, _server_cpu_seconds() - server)
            if seconds < best.get(name, float("inf")):
                phases[name] = timings
            best[name] = min(best.get(name, float("inf")), seconds)
            cpu[name] = min(cpu.get(name, used), used, key=sum)
            print(f"  {name}: {seconds:.1f} s wall, CPU client {used[0]:.1f} s, server {used[1]:.1f} s", flush=True)
    full = generator.generate(
        url,
        scale=args.scale,
        seed=args.seed,
        reference_date=REFERENCE_DATE,
        manifest_path=RESULTS.with_name("source-manifest.json"),
    )
    with psycopg.connect(url) as conn:
        size = conn.execute("select pg_database_size(current_database())").fetchone()[0]

    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "rows": rows,
        "build_seconds": round(build_seconds, 2),
        "load": {
            name: {
                "seconds": round(seconds, 2),
                "rows_per_second": round(rows / seconds),
                "speedup_vs_text": round(best[BASELINE] / seconds, 2),
                "client_cpu_seconds": round(cpu[name][0], 2),
                "server_cpu_seconds": round(cpu[name][1], 2),
                "server_cpu_vs_text": round(cpu[BASELINE][1] / cpu[name][1], 2),
                "phases": {phase: round(value, 2) for phase, value in phases[name].items()},
            }
            for name, seconds in best.items()
        },
        "generate": {
            "seconds": round(full.seconds, 2),
            "rows_per_second": round(full.rows_per_second),
            "phases": {phase: round(value, 2) for phase, value in full.phases.items()},
        },
        "database_bytes": size,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"scale {args.scale}: {rows:,} rows, build {build_seconds:.1f} s")
    for name, figures in results["load"].items():
        print(
            f"  load {name:<24} {figures['seconds']:>7.1f} s {figures['rows_per_second']:>10,} rows/s "
            f"x{figures['speedup_vs_text']} vs text; CPU client {figures['client_cpu_seconds']} s, "
            f"server {figures['server_cpu_seconds']} s, text needs x{figures['server_cpu_vs_text']} of it"
        )
    print(
        f"  generate (build+load+analyze) {full.seconds:.1f} s = {full.rows_per_second:,.0f} rows/s; "
        f"database {size / 2**20:,.0f} MiB"
    )
    print("  generate phases: " + ", ".join(f"{phase} {full.phases[phase]:.1f} s" for phase in MAIN_PHASES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
