"""Benchmark of the project's Dagster storage against dagster-postgres's own.

Both store a run's events in PostgreSQL; dagster-postgres opens a connection for every event
and read, `PooledPostgresStorage` (pipelines/lib/dagster_storage.py) keeps its connections.
Each round runs the same job on each storage in turn, in this process, on a scratch database
of the project's server: --assets assets in a chain, each a step of its own with one asset
check (a nightly run has 25 steps yielding about 100 materializations and 90 checks).
Reported: seconds per run, events stored, connections the server saw (sessions of the
database), and the ratio of the two storages' medians. Results go to
bench/results/dagster_storage.json.

    python -m bench.dagster_storage [--rounds 3] [--assets 120]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import psycopg
import yaml
from psycopg.conninfo import conninfo_to_dict

from bench.transform import fresh_database
from pipelines.lib.dagster_home import DAGSTER_YAML, dagster_environment
from pipelines.lib.databases import database_urls
from pipelines.lib.environ import temporary_environ
from pipelines.settings import PROJECT_ROOT, get_settings

RESULTS = PROJECT_ROOT / "bench" / "results" / "dagster_storage.json"
DATABASE = "kw_bench_dagster"


def chain_of_assets(count: int) -> list[dg.AssetsDefinition]:
    """`count` assets, each reading the one before and carrying one check."""
    assets = []
    for number in range(count):
        deps = [f"asset_{number - 1}"] if number else []

        @dg.asset(name=f"asset_{number}", deps=deps, check_specs=[dg.AssetCheckSpec("rows", asset=f"asset_{number}")])
        def one():
            yield dg.MaterializeResult(metadata={"rows": 1})
            yield dg.AssetCheckResult(check_name="rows", passed=True)

        assets.append(one)
    return assets


def storage_configs() -> dict[str, dict]:
    """dagster.yaml's storage as the project writes it, and dagster-postgres's own with the same database."""
    project = yaml.safe_load(DAGSTER_YAML)["storage"]
    return {"dagster_postgres": {"postgres": project["custom"]["config"]}, "kept_connections": project}


def sessions(admin_url: str) -> int:
    """Sessions opened on the database so far, read once none is open: the server counts a
    session when its backend exits, a moment after the client closed it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for _ in range(100):
            open_now = conn.execute("select count(*) from pg_stat_activity where datname = %s", (DATABASE,))
            if not open_now.fetchone()[0]:
                break
            time.sleep(0.1)
        return conn.execute("select sessions from pg_stat_database where datname = %s", (DATABASE,)).fetchone()[0]


def timed_run(home: Path, assets: list[dg.AssetsDefinition], admin_url: str) -> dict:
    before = sessions(admin_url)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        started = time.perf_counter()
        result = dg.materialize(assets, instance=instance)
        seconds = time.perf_counter() - started
        events = len(instance.all_logs(result.run_id))
    assert result.success
    return {"seconds": round(seconds, 2), "events": events, "connections": sessions(admin_url) - before}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dagster_storage", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--assets", type=int, default=120, help="assets in the job (a nightly run yields about 120)")
    args = parser.parse_args(argv)

    admin = database_urls().warehouse
    url = fresh_database(admin, DATABASE)
    env = dagster_environment(get_settings(), url)
    assets = chain_of_assets(args.assets)
    runs: dict[str, list[dict]] = {name: [] for name in storage_configs()}
    try:
        with tempfile.TemporaryDirectory() as scratch, temporary_environ(env):
            homes = {}
            for name, storage in storage_configs().items():
                homes[name] = Path(scratch) / name
                homes[name].mkdir()
                (homes[name] / "dagster.yaml").write_text(
                    yaml.safe_dump({"storage": storage, "telemetry": {"enabled": False}})
                )
            for round_number in range(args.rounds):
                for name, home in homes.items():
                    runs[name].append(timed_run(home, assets, admin))
                    print(f"round {round_number + 1} {name}: {runs[name][-1]}", flush=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{DATABASE}" with (force)')
    median = {name: statistics.median(run["seconds"] for run in done) for name, done in runs.items()}
    results = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "assets": args.assets,
        "rounds": args.rounds,
        "baseline": "dagster-postgres's own storage (a connection per event and read)",
        "runs": runs,
        "median_seconds": median,
        "kept_over_baseline": round(median["kept_connections"] / median["dagster_postgres"], 3),
        "database": conninfo_to_dict(url)["dbname"],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
