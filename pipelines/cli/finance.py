"""`warehouse finance summary`: the finance export (HTML, XLSX or CSV) for one tenant or all."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    finance = commands.add_parser("finance", help="finance exports")
    actions = finance.add_subparsers(dest="action", required=True, metavar="ACTION")
    summary = actions.add_parser(
        "summary",
        help="monthly revenue, AR aging at period end, payment-method mix and occupancy by month",
        description="Write a finance summary for whole months FROM..TO (inclusive). Default output: "
        "<KENNELWORKS_HOME>/reports/finance/<tenant|all-tenants>_<from>_<to>.<format> "
        "(csv: a directory with one file per section).",
    )
    who = summary.add_mutually_exclusive_group(required=True)
    who.add_argument("--tenant", metavar="SLUG", help="one tenant, by its slug")
    who.add_argument("--all-tenants", action="store_true", help="every tenant (internal finance)")
    summary.add_argument("--from", dest="first", required=True, metavar="YYYY-MM", help="first month")
    summary.add_argument("--to", dest="last", required=True, metavar="YYYY-MM", help="last month (inclusive)")
    summary.add_argument("--format", choices=("html", "xlsx", "csv"), default="html", help="default: html")
    summary.add_argument("--out", type=Path, metavar="PATH", help="output file (csv: directory)")
    summary.set_defaults(handler=_summary)


def _summary(args) -> int:
    from pipelines.cli import UserError
    from pipelines.lib import validation
    from pipelines.lib.databases import database_urls
    from pipelines.lib.finance_summary import (
        WarehouseNotReady,
        build_summary,
        default_path,
        parse_request,
        write_summary,
    )
    from pipelines.settings import get_settings

    try:
        request = parse_request(args.tenant, args.all_tenants, args.first, args.last)  # before any connection
        summary = build_summary(database_urls().warehouse, request)
    except (validation.InvalidInput, WarehouseNotReady) as error:
        raise UserError(str(error)) from None
    path = args.out or default_path(get_settings().home, request.label, args.format)
    try:
        written = write_summary(summary, args.format, path.expanduser().resolve())
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None
    print(
        f"finance summary ({summary.scope_title}, {request.first_month:%Y-%m}..{request.last_month:%Y-%m}, "
        f"AR aging as of {summary.aging_as_of}) written to {written}"
    )
    return 0
