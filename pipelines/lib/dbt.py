"""Run dbt from Python: the one place that builds dbt's environment, vars and arguments.

Guarantees:
* the connection comes from a warehouse URL (settings), handed to dbt through DBT_* variables
  of this process only while dbt runs; profiles.yml reads them with env_var(), so no password
  is written to a file or printed (dbt keeps profile values out of target/);
* every date var is validated as an ISO date here, before it reaches dbt (and again in the
  `iso_date` macro), so --vars can never carry SQL;
* run_date reaches dbt as the variable KENNELWORKS_RUN_DATE, not as a --var: a changed --vars
  makes dbt re-parse the whole project (about 3 s each nightly build); the run_date() macro
  reads the variable only when compiling, so a new date re-parses nothing (dbt re-parses the
  files whose parse read a changed variable: 1.0 s a night);
* a failed dbt command raises `DbtError` naming the failed nodes; nothing is retried silently;
* `dbt build` leaves out the unit tests unless asked (`unit_tests=True`; `dbt test` runs
  them): they check SQL logic on fixed inputs, so they belong to development and CI
  (`make test` runs them), not to every nightly build, where they cost about 0.4 s;
* every `dbt build` records, in the warehouse, what each node that succeeded was built from
  (pipelines.lib.build_state); with `changed_only` it leaves out the nodes whose code and
  inputs have not changed since (pipelines.lib.build_plan), as nightly runs do;
* dbt runs with Python's cyclic garbage collector paused (pipelines.lib.collector: 1.1 s of a
  7.4 s changed-only build of 27 nodes);
* dbt's log file takes INFO events (each node, its timing, every failure), not DEBUG, which
  adds every SQL statement run (DEBUG against no log file: 8.0 vs 6.75 s for a build of 235
  nodes with nothing to do). DBT_LOG_LEVEL_FILE=debug in the environment brings them back.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from pipelines.lib import collector
from pipelines.lib.access import TRANSFORMER, init_access
from pipelines.lib.build_state import create_state_tables, plan_build
from pipelines.lib.environ import temporary_environ
from pipelines.lib.file_lock import exclusive
from pipelines.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT
# dbt's own variable moves it, for this process and the dbt and Dagster processes it starts
# (the test suite gives each parallel worker its own: two dbt commands writing one target/
# overwrite each other's manifest and partial-parse file).
DBT_TARGET_PATH = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
# Where a command with vars of its own (a month rebuild) keeps its parse state. Vars are part of
# dbt's partial-parse check, and DBT_TARGET_PATH's state is the one every Dagster dbt step starts
# from (dagster-dbt copies it) with no vars: written there by a command with vars, it would make
# each later step parse the whole project again (2.7 s at each of a nightly run's two steps).
VARS_TARGET_PATH = DBT_TARGET_PATH / "with_vars"

# Vars that hold one ISO date, and vars that hold a list of them.
DATE_VARS = frozenset({"run_date"})
DATE_LIST_VARS = frozenset({"reservation_months"})

# The run date's environment variable (read by the run_date() macro).
RUN_DATE_ENV = "KENNELWORKS_RUN_DATE"

# dbt's log file level unless DBT_LOG_LEVEL_FILE says otherwise (see the module's docstring).
LOG_LEVEL_FILE = "info"

# `dbt build` without unit tests (see the module's docstring); without data tests, its models alone.
WITHOUT_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]
WITHOUT_DATA_TESTS = ["--exclude-resource-type", "test"]

_ENV_LOCK = threading.Lock()

# `dbt parse` reads profiles.yml but never connects: placeholders are enough, so preparing
# the manifest (at Dagster load time) needs neither a server nor a secret.
PARSE_ONLY_URL = "postgresql://dbt_parse@localhost:5432/warehouse"


class DbtError(RuntimeError):
    """dbt ran and some node failed (or dbt could not start); the message names them."""


def dbt_environment(warehouse_url: str, run_date: Any = "") -> dict[str, str]:
    """The DBT_* variables profiles.yml reads, from a PostgreSQL URL, and the run date (validated)."""
    parts = conninfo_to_dict(warehouse_url)
    missing = [key for key in ("host", "user", "dbname") if not parts.get(key)]
    if missing:
        raise DbtError(f"warehouse URL lacks {', '.join(missing)}")
    return {
        "DBT_HOST": str(parts["host"]),
        "DBT_PORT": str(parts.get("port") or 5432),
        "DBT_USER": str(parts["user"]),
        "DBT_PASSWORD": str(parts.get("password") or ""),
        "DBT_DATABASE": str(parts["dbname"]),
        # dbt builds as the transformer (SET ROLE): it owns the schemas it builds, and
        # row-level security (forced even for owners) applies to it like to everyone else.
        "DBT_ROLE": TRANSFORMER,
        RUN_DATE_ENV: validate_vars({"run_date": run_date})["run_date"],
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE") or LOG_LEVEL_FILE,
    }


@contextmanager
def dbt_env(warehouse_url: str, run_date: Any = "") -> Iterator[dict[str, str]]:
    """Prepare the warehouse's access model, then set the DBT_* variables for one dbt call.

    dbt (in-process or as dagster-dbt's subprocess) reads the process environment; the lock
    keeps two concurrent calls in one process from seeing each other's connection.
    """
    values = dbt_environment(warehouse_url, run_date)
    # Roles, schemas and the PII salt in place before any model is built (a no-op when they are);
    # not for `dbt parse`, which never connects (Dagster prepares its manifest without a server).
    if warehouse_url != PARSE_ONLY_URL:
        init_access(warehouse_url)
    with _ENV_LOCK, temporary_environ(values):
        yield values


def iso_date(value: Any, name: str = "date") -> str:
    """`value` as an ISO date string (YYYY-MM-DD), or ValueError naming `name`."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        parsed = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD), got {value!r}") from None
    if parsed.isoformat() != text:
        raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD), got {value!r}")
    return text


def month_start(value: Any, name: str = "month") -> str:
    """The first day of the month of an ISO date (or 'YYYY-MM'), validated."""
    text = str(value).strip()
    if len(text) == 7:
        text += "-01"
    return dt.date.fromisoformat(iso_date(text, name)).replace(day=1).isoformat()


def validate_vars(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Vars for dbt with every date var checked; unknown vars pass through unchanged."""
    clean: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if key in DATE_VARS:
            clean[key] = "" if value in (None, "") else iso_date(value, key)
        elif key in DATE_LIST_VARS:
            if isinstance(value, (str, bytes)):
                value = [part for part in str(value).split(",") if part.strip()]
            clean[key] = sorted({month_start(item, key) for item in value})
        else:
            clean[key] = value
    return clean


def passed_vars(vars: Mapping[str, Any] | None) -> dict[str, Any]:
    """The checked vars (validate_vars) without the empty ones, which equal the models' defaults:
    passed, they would only change dbt's parse state (see VARS_TARGET_PATH)."""
    return {key: value for key, value in validate_vars(vars).items() if value not in ("", [])}


def split_run_date(vars: Mapping[str, Any] | None) -> tuple[Any, dict[str, Any]]:
    """(run_date, the other vars): the run date goes to dbt through the environment."""
    other = dict(vars or {})
    return other.pop("run_date", ""), other


def build_command(command: Sequence[str], unit_tests: bool = False, data_tests: bool = True) -> list[str]:
    """`command`, and for `build` the exclusion of unit tests (unless `unit_tests`) and of data
    tests (when not `data_tests`: the models alone, as `dbt run` but in a build's order and plan)."""
    if command[0] != "build":
        return list(command)
    return [*command, *([] if unit_tests else WITHOUT_UNIT_TESTS), *([] if data_tests else WITHOUT_DATA_TESTS)]


def dbt_args(
    command: Sequence[str],
    select: Sequence[str] | str | None = None,
    vars: Mapping[str, Any] | None = None,
    full_refresh: bool = False,
    target_path: Path | None = None,
    unit_tests: bool = False,
    data_tests: bool = True,
) -> list[str]:
    """The argument list of one dbt command (without the leading `dbt`)."""
    target = Path(target_path or DBT_TARGET_PATH)
    args = [
        *build_command(command, unit_tests, data_tests),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    if select:
        # cautious: a test runs only when all its parents are selected; eager would run a
        # relationships test whose other parent this subset does not build (and may not exist yet)
        args += ["--select", *([select] if isinstance(select, str) else select), "--indirect-selection", "cautious"]
    if "run_date" in validate_vars(vars):
        raise ValueError("run_date is passed to run_dbt (dbt reads it from the environment), not as a --var")
    if passed := passed_vars(vars):
        args += ["--vars", json.dumps(passed)]
    if full_refresh:
        args.append("--full-refresh")
    return args


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    seconds: float
    message: str | None = None


@dataclass(frozen=True)
class DbtResult:
    """What one dbt command did, node by node."""

    args: list[str]
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    # the nodes a changed-only build left out, up to date (unique_ids), and the tests among
    # them left out because the catalog proves they pass
    up_to_date: frozenset[str] = frozenset()
    proven: frozenset[str] = frozenset()

    def status_of(self, name: str) -> str:
        return next(node.status for node in self.nodes if node.name == name)


def run_dbt(warehouse_url: str, args: list[str], run_date: Any = "", on_done=None) -> DbtResult:
    """Run one dbt command in-process; raises DbtError unless every node succeeded.

    `run_date` (ISO date, empty for today) goes to dbt as RUN_DATE_ENV, never in `args`;
    `on_done(result)` sees every node's result, failed or not, before any error is raised.
    """
    import time

    from dbt.cli.main import dbtRunner

    started = time.perf_counter()
    with dbt_env(warehouse_url, run_date), collector.paused():
        outcome = dbtRunner().invoke(args)
    seconds = time.perf_counter() - started
    nodes = [
        NodeResult(
            unique_id=item.node.unique_id,
            name=item.node.name,
            resource_type=str(item.node.resource_type),
            status=str(item.status),
            seconds=float(item.execution_time or 0.0),
            message=item.message,
        )
        for item in getattr(outcome.result, "results", None) or []
        if hasattr(item, "node")
    ]
    result = DbtResult(args=args, seconds=seconds, nodes=nodes)
    if on_done is not None:
        on_done(result)
    if not outcome.success:
        failed = [f"{node.name} ({node.status}): {node.message}" for node in nodes if node.status in {"error", "fail"}]
        cause = outcome.exception or "; ".join(failed) or "dbt reported failure"
        raise DbtError(f"dbt {args[0]} failed: {cause}")
    return result


def dbt_build(
    warehouse_url: str,
    select: Sequence[str] | str | None = None,
    vars: Mapping[str, Any] | None = None,
    full_refresh: bool = False,
    target_path: Path | None = None,
    unit_tests: bool = False,
    changed_only: bool = False,
    data_tests: bool = True,
) -> DbtResult:
    """`dbt build` (models, tests, in dependency order; unit tests when asked) against the warehouse.

    `changed_only`: leave out the nodes with nothing new to read (pipelines.lib.build_plan);
    it applies to whole-project builds only (no selection, no vars but the run date, no
    full refresh). Every build records what succeeded, for the next one to compare with.
    `data_tests=False` builds the models alone (a test left out runs in the next build).
    """
    return dbt_command(
        warehouse_url, "build", select, vars, full_refresh, target_path, unit_tests, changed_only, data_tests
    )


def dbt_command(
    warehouse_url: str,
    command: str,
    select: Sequence[str] | str | None = None,
    vars: Mapping[str, Any] | None = None,
    full_refresh: bool = False,
    target_path: Path | None = None,
    unit_tests: bool = False,
    changed_only: bool = False,
    data_tests: bool = True,
) -> DbtResult:
    """Any dbt command (`build`, `test`, `docs generate`, ...), same environment and checks."""
    run_date, other_vars = split_run_date(vars)
    other_vars = passed_vars(other_vars)
    target = Path(target_path or (VARS_TARGET_PATH if other_vars else DBT_TARGET_PATH))
    args = dbt_args(command.split(), select, other_vars, full_refresh, target, unit_tests, data_tests)
    if command != "build":
        create_state_tables(warehouse_url)  # the tests' macros read meta.dbt_test_scope (test_scope.sql)
        return run_dbt(warehouse_url, args, run_date)
    prune = changed_only and not (select or other_vars or full_refresh)
    plan = plan_build(warehouse_url, run_date, prepare_manifest(target) if prune else None)

    def record(result: DbtResult) -> None:
        if result.nodes:  # dbt ran nodes, so it wrote the manifest they were built from
            nodes = [(node.unique_id, node.status) for node in result.nodes]
            plan.record(target / "manifest.json", nodes, reusable=not other_vars)

    if plan.builds_nothing and not unit_tests:
        result = DbtResult(args=[*args, *plan.dbt_args], seconds=0.0, nodes=[])
    else:
        result = run_dbt(warehouse_url, [*args, *plan.dbt_args], run_date, on_done=record)
    return replace(result, up_to_date=frozenset(plan.up_to_date), proven=frozenset(plan.proven))


def manifest_is_stale(manifest: Path) -> bool:
    """True when manifest.json is missing or older than any file of the dbt project."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [
        PROJECT_ROOT / "dbt_project.yml",
        PROJECT_ROOT / "profiles.yml",
        *(PROJECT_ROOT / "dbt_project").rglob("*"),
    ]
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


def prepare_manifest(target_path: Path | None = None, force: bool = False) -> Path:
    """target/manifest.json, re-parsed first when stale (or `force`); no database needed."""
    target = Path(target_path or DBT_TARGET_PATH)
    manifest = target / "manifest.json"
    with exclusive(target, "parse"):  # a second parse would hand a reader a half-written manifest
        if force or manifest_is_stale(manifest):
            run_dbt(PARSE_ONLY_URL, dbt_args(["parse"], target_path=target_path))
    return manifest


def keep_parse_state(step_target: Path) -> None:
    """Offer a Dagster dbt step's parse state (its partial_parse.msgpack) to the steps after it.

    dagster-dbt starts each dbt step in a target of its own from a copy of DBT_TARGET_PATH's
    state, which dbt checks against the step's connection settings and vars. Written by
    prepare_manifest (PARSE_ONLY_URL: no server needed) it never matches, and a step writes its
    own state only to its own target: every step parsed the whole project again, night after
    night (2.7 s each at scale 1). A step's state has the settings the next one runs with; dbt
    still re-parses any file that changed since.
    """
    state = step_target / "partial_parse.msgpack"
    if state.exists():
        with exclusive(DBT_TARGET_PATH, "parse"):  # not while prepare_manifest writes it
            staged = DBT_TARGET_PATH / f".{state.name}.{os.getpid()}"
            shutil.copyfile(state, staged)
            os.replace(staged, DBT_TARGET_PATH / state.name)  # a reader sees the old file or the new


def months_in_window(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> list[str]:
    """First days of the months in [start, end), e.g. a Dagster monthly partition's time window."""
    month = dt.date(start.year, start.month, 1)
    stop = end.date() if isinstance(end, dt.datetime) else end
    months = []
    while month < stop:
        months.append(month.isoformat())
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def group_name(node: Mapping[str, Any]) -> str:
    """The Dagster group of a dbt node: the schema generate_schema_name gave it (one rule)."""
    return node["schema"]
