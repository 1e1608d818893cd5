"""`warehouse run | schedule | ui`: Dagster jobs, their schedules, and the UI."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

SCHEDULE_NAMES = ("warehouse_nightly_schedule", "occupancy_hourly_schedule", "archive_monthly_schedule")


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run a Dagster job in this process (same definitions as the UI)")
    run.add_argument("--job", default="warehouse_nightly", help="job name (default warehouse_nightly)")
    which = run.add_mutually_exclusive_group()
    which.add_argument("--partition", help="one partition, e.g. 2025-03-01")
    which.add_argument("--from", dest="first", help="first partition of a range (one run)")
    run.add_argument("--to", dest="last", help="last partition of a range")
    run.set_defaults(handler=_run)

    schedule = commands.add_parser("schedule", help="switch every schedule on or off")
    schedule.add_argument("state", choices=("on", "off"))
    schedule.set_defaults(handler=_schedule)

    ui = commands.add_parser("ui", help="Dagster UI and daemon on 127.0.0.1 (schedules and sensors run)")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(handler=_ui)


def _run(args) -> int:
    from pipelines.cli import UserError
    from pipelines.defs.orchestration.run import RunRequestError, run_job

    print(f"running {args.job} in process ...", flush=True)
    try:
        outcome = run_job(args.job, partition=args.partition, first=args.first, last=args.last)
    except RunRequestError as error:
        raise UserError(str(error)) from None
    print(f"run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'}; "
          f"{len(outcome.materialized)} assets materialized")  # fmt: skip
    for step, message in outcome.failed_steps.items():
        print(f"  failed step {step}: {message.splitlines()[0] if message else ''}", file=sys.stderr)
    return 0 if outcome.success else 1


def _dagster_env() -> dict[str, str]:
    from pipelines.lib.dagster_home import dagster_environment
    from pipelines.lib.databases import database_urls
    from pipelines.settings import get_settings

    settings = get_settings()
    return {**os.environ, **dagster_environment(settings, database_urls(settings).dagster)}


def _dagster(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "dagster"), *args, "-w", str(PROJECT_ROOT / "workspace.yaml")]


def _schedule(args) -> int:
    env = _dagster_env()
    if args.state == "on":
        commands = [_dagster("schedule", "start", "--start-all")]
    else:
        commands = [_dagster("schedule", "stop", name) for name in SCHEDULE_NAMES]
    for command in commands:
        result = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stderr.strip(), file=sys.stderr)
            return result.returncode
    print(f"schedules {'started' if args.state == 'on' else 'stopped'}: {', '.join(SCHEDULE_NAMES)}")
    return 0


def ui_command(port: int) -> list[str]:
    """`dagster dev`: webserver (loopback only) and daemon, on the project's workspace."""
    return _dagster("dev", "-h", "127.0.0.1", "-p", str(port))


def _ui(args) -> int:
    env = _dagster_env()
    print(f"Dagster UI on http://127.0.0.1:{args.port} (webserver and daemon; Ctrl-C stops both)")
    return subprocess.call(ui_command(args.port), env=env, cwd=PROJECT_ROOT)
