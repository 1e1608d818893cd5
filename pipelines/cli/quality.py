"""`warehouse dq run | report`: run the data-quality suites, and summarise their latest results."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    from expectations.checks import LAYERS

    dq = commands.add_parser("dq", help="data-quality suites (Great Expectations)")
    actions = dq.add_subparsers(dest="action", required=True, metavar="ACTION")

    run = actions.add_parser("run", help="run the suites, record results in dq.validation_results, rebuild Data Docs")
    run.add_argument("--layer", action="append", choices=LAYERS, help="only this layer (repeatable; default: all)")
    run.add_argument("--suite", action="append", metavar="NAME", help="only this suite, e.g. orphans.raw.pets")
    run.add_argument(
        "--stats-tolerance-m",
        type=_non_negative,
        default=0,
        metavar="M",
        help="metres a stored distance may differ from the recomputed one (default 0: exact)",
    )
    run.add_argument("--strict", action="store_true", help="exit 1 on warnings too, not only on errors")
    run.add_argument(
        "--gx-root", type=Path, metavar="DIR", help="directory holding the GX file context gx/ (default: expectations/)"
    )
    run.set_defaults(handler=_run)

    report = actions.add_parser("report", help="print the latest results and write an HTML summary")
    report.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="HTML file to write (default: <KENNELWORKS_HOME>/reports/data-quality.html)",
    )
    report.set_defaults(handler=_report)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of metres, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"the tolerance cannot be negative, got {value}")
    return value


def _run(args) -> int:
    from expectations.catalog import LAYERS, suites_for
    from expectations.drift import StatsTolerance
    from expectations.runner import run_suites
    from pipelines.cli import UserError
    from pipelines.lib.databases import database_urls

    tolerance = StatsTolerance(distance_m=args.stats_tolerance_m)
    suites = [suite for layer in (args.layer or LAYERS) for suite in suites_for(layer, tolerance)]
    if args.suite:
        unknown = sorted(set(args.suite) - {suite.name for suite in suites})
        if unknown:
            raise UserError(f"no suite named {', '.join(unknown)}; known: {', '.join(s.name for s in suites)}")
        suites = [suite for suite in suites if suite.name in args.suite]
    if not suites:
        raise UserError("no suites to run for the chosen layers")
    from expectations.runner import GX_PROJECT_ROOT

    run = run_suites(database_urls().warehouse, suites, gx_project_root=args.gx_root or GX_PROJECT_ROOT)
    outcomes = [o for suite in run.suites for o in suite.outcomes]
    _print_table([_as_row(o) for o in outcomes], title=f"run {run.run_id}")
    print(f"Data Docs: {run.data_docs_index}")
    errors = [o for o in outcomes if not o.success and o.severity == "error"]
    warnings = [o for o in outcomes if not o.success and o.severity != "error"]
    print(f"{len(outcomes)} expectations: {len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors or (args.strict and warnings) else 0


def _report(args) -> int:
    from datetime import UTC, datetime

    from expectations.results import latest_results
    from pipelines.cli import UserError
    from pipelines.lib.databases import database_urls
    from pipelines.lib.quality_report import render_html
    from pipelines.settings import get_settings

    results = latest_results(database_urls().warehouse)
    if not results:
        raise UserError("no data-quality results yet; run `warehouse dq run` first")
    _print_table(results, title="latest data-quality results")
    output = args.output or get_settings().home / "reports" / "data-quality.html"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_html(results, datetime.now(UTC)))
    print(f"HTML summary: {output}")
    return 0


def _as_row(outcome) -> dict:
    return {
        "suite": outcome.suite,
        "expectation": outcome.expectation,
        "severity": outcome.severity,
        "success": outcome.success,
        "unexpected_count": outcome.unexpected_count,
        "error": outcome.error,
        "checked_at": None,
    }


def _print_table(results: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from pipelines.lib.quality_report import COLUMNS, summary_rows

    table = Table(title=title)
    for name in COLUMNS:
        table.add_column(name, justify="right" if name == "unexpected" else "left")
    style = {"passed": "green", "warning": "yellow", "failed": "red", "error": "red"}
    for cells in summary_rows(results):
        table.add_row(*cells, style=style[cells[3]])
    Console(width=160).print(table)
