"""A small generated warehouse built night after night, for the tests of the models that
start from what they hold (dbt_project/macros/materializations/log_readers.sql).

One source at scale 0.01, extracted and built once for a selection of models; each build
then names its run date. A test compares what a nightly build leaves with a count or a full
rebuild made another way.
"""

from __future__ import annotations

import datetime as dt
import json

import psycopg

from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all
from pipelines.source.generate import generate
from pipelines.source.simulate import simulate


def small_warehouse(make_database, tmp_path_factory, name: str, seed: int, run_date: dt.date, select: str) -> dict:
    """Source and warehouse databases `<name>_ops` / `<name>_wh`, loaded and built for `select`."""
    ops, url = make_database(f"{name}_ops"), make_database(f"{name}_wh")
    generate(ops, scale=0.01, seed=seed, reference_date=run_date)
    load_all(ops, url)
    state = {"ops": ops, "url": url, "target": tmp_path_factory.mktemp(f"dbt_{name}"), "select": select}
    build(state, run_date)
    return state


def build(state: dict, run_date: dt.date, select: str | None = None, full_refresh: bool = False):
    """dbt build of `select` (the warehouse's own selection by default) for `run_date`."""
    state["run_date"] = run_date
    return dbt_build(
        state["url"], select=select or state["select"], vars={"run_date": run_date.isoformat()},
        target_path=state["target"], full_refresh=full_refresh,
    )  # fmt: skip


def day_of_traffic(state: dict) -> None:
    """One day of app traffic in the source (the generator's simulation), extracted."""
    simulate(state["ops"], days=1)
    load_all(state["ops"], state["url"])


def next_night(state: dict) -> None:
    build(state, state["run_date"] + dt.timedelta(days=1))


def fetch(url: str, sql: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def rows_of(url: str, table: str) -> set[tuple]:
    """Every row of `table`, to compare a nightly build's table with its full rebuild."""
    return set(fetch(url, f"select * from {table}"))


def compiled_code(state: dict, model: str) -> str:
    """The SQL the last build ran for `model` (dbt's run_results.json)."""
    results = json.loads((state["target"] / "run_results.json").read_text())["results"]
    return next(result["compiled_code"] for result in results if result["unique_id"].endswith(f".{model}"))
