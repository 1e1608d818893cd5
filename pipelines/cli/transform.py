"""`warehouse dbt build | test | docs | parse`: run the dbt project against the warehouse."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    dbt = commands.add_parser("dbt", help="build, test or document the dbt models of the warehouse")
    actions = dbt.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("build", "build models and run their tests, in dependency order"),
        ("test", "run the dbt tests only"),
        ("docs", "generate the dbt docs (target/index.html)"),
    ):
        parser = actions.add_parser(action, help=text)
        parser.add_argument("--select", nargs="+", metavar="SELECTOR", help="dbt node selection")
        parser.add_argument(
            "--run-date", metavar="YYYY-MM-DD", help="date the reports are computed for (default: today)"
        )
        if action == "build":
            parser.add_argument(
                "--months",
                metavar="YYYY-MM[,YYYY-MM...]",
                help="also rebuild these months of marts.fct_reservation_history",
            )
            parser.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
            parser.add_argument(
                "--unit-tests", action="store_true", help="also run the dbt unit tests (`dbt test` always does)"
            )
            parser.add_argument(
                "--changed-only",
                action="store_true",
                help="leave out the nodes whose code and inputs are those of their last successful build "
                "(as nightly runs do; whole-project builds only)",
            )
        parser.set_defaults(handler=_run)
    actions.add_parser("parse", help="(re)write target/manifest.json, for Dagster").set_defaults(handler=_parse)


def _run(args) -> int:
    from pipelines.cli import UserError
    from pipelines.lib.databases import database_urls
    from pipelines.lib.dbt import DbtError, dbt_command, validate_vars

    command = {"build": "build", "test": "test", "docs": "docs generate"}[args.action]
    try:
        values = validate_vars({"run_date": args.run_date, "reservation_months": getattr(args, "months", None) or []})
    except ValueError as error:
        raise UserError(str(error)) from None
    try:
        result = dbt_command(
            database_urls().warehouse,
            command,
            select=args.select,
            vars=values,
            full_refresh=getattr(args, "full_refresh", False),
            unit_tests=getattr(args, "unit_tests", False),
            changed_only=getattr(args, "changed_only", False),
        )
    except DbtError as error:
        raise UserError(str(error)) from None
    proven = f" ({len(result.proven)} tests the catalog proves)" if result.proven else ""
    left_out = f", {len(result.up_to_date)} up to date left out{proven}" if result.up_to_date else ""
    print(f"dbt {command}: {len(result.nodes)} nodes in {result.seconds:.1f} s{left_out}")
    return 0


def _parse(args) -> int:
    from pipelines.lib.dbt import prepare_manifest

    print(f"manifest: {prepare_manifest(force=True)}")
    return 0
