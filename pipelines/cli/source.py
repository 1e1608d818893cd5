"""`warehouse source create | generate | simulate`: the operational source database."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

# kept in step with pipelines.source.anomalies.AnomalyRates (a test checks), so that
# `warehouse --help` does not import numpy
ANOMALY_KINDS = (
    "orphan_pet_customer",
    "orphan_reservation_pet",
    "orphan_activity_customer",
    "orphan_team_member_team",
    "cross_tenant_reservation_pet",
    "cross_tenant_reservation_customer",
    "cross_tenant_reservation_resource",
    "drifted_customer_stats",
    "drifted_team_progress",
    "suite_type_label_variant",
    "odd_text",
    "end_before_start",
    "negative_amount",
    "overpayment",
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number greater than 0: {text!r}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1: {text!r}")
    return value


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1: {text!r}")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    source = commands.add_parser("source", help="the operational source database (ops)")
    actions = source.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("create", help="create the app schema (idempotent)").set_defaults(handler=_create)

    generate = actions.add_parser("generate", help="replace the source data with generated data (deterministic)")
    generate.add_argument("--scale", type=_positive, required=True, help="1 = ~7M rows (50 tenants, 1M stays)")
    generate.add_argument("--seed", type=int, required=True)
    generate.add_argument(
        "--reference-date",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="'today' of the data (default: today, UTC)",
    )
    generate.add_argument(
        "--anomaly-rate",
        type=_rate,
        default=None,
        metavar="R",
        help="one rate for every anomaly kind (0 switches injection off)",
    )
    for kind in ANOMALY_KINDS:
        generate.add_argument(
            f"--{kind.replace('_', '-')}-rate",
            type=_rate,
            default=None,
            metavar="R",
            dest=f"rate_{kind}",
            help=argparse.SUPPRESS,
        )
    generate.add_argument(
        "--manifest",
        type=Path,
        default=None,
        metavar="PATH",
        help="anomaly manifest (default: <home>/source-manifest.json); "
        "per-kind rates: --<kind>-rate R, kinds: " + ", ".join(ANOMALY_KINDS),
    )
    generate.set_defaults(handler=_generate)

    simulate = actions.add_parser("simulate", help="apply days of app traffic after the last simulated day")
    simulate.add_argument("--days", type=_whole, required=True)
    simulate.add_argument("--seed", type=int, default=None, help="default: the generator's seed")
    simulate.set_defaults(handler=_simulate)


def _create(args) -> int:
    from pipelines.lib.databases import database_urls
    from pipelines.source.create import create_source_schema

    create_source_schema(database_urls().ops)
    print("source schema app is in place")
    return 0


def _rates(args):
    from pipelines.source.anomalies import AnomalyRates

    rates = AnomalyRates() if args.anomaly_rate is None else AnomalyRates.uniform(args.anomaly_rate)
    overrides = {
        kind: getattr(args, f"rate_{kind}") for kind in ANOMALY_KINDS if getattr(args, f"rate_{kind}") is not None
    }
    return rates.with_rates(**overrides)


def _generate(args) -> int:
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.table import Table

    from pipelines.cli import UserError
    from pipelines.lib.databases import database_urls, mask_url
    from pipelines.source.generate import GenerateError, generate

    reference = args.reference_date or datetime.now(UTC).date()
    ops = database_urls().ops
    console = Console()
    console.print(f"generating scale {args.scale} seed {args.seed} as of {reference} into {mask_url(ops)}")
    try:
        result = generate(
            ops,
            scale=args.scale,
            seed=args.seed,
            reference_date=reference,
            anomaly_rates=_rates(args),
            progress=True,
            manifest_path=args.manifest,
        )
    except GenerateError as error:
        raise UserError(str(error)) from error
    table = Table(title=f"app.* rows (reference date {reference})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(result.rows.items()):
        table.add_row(name, f"{rows:,}")
    table.add_section()
    table.add_row("total", f"{result.total_rows:,}")
    console.print(table)
    console.print(
        f"{result.total_rows:,} rows in {result.seconds:.1f} s = {result.rows_per_second:,.0f} rows/s "
        f"(build {result.build_seconds:.1f} s, load {result.load_seconds:.1f} s: "
        + ", ".join(f"{phase} {result.phases[phase]:.1f} s" for phase in ("copy", "index", "commit", "analyze"))
        + ")"
    )
    injected = ", ".join(f"{kind} {n}" for kind, n in sorted(result.anomalies.items())) or "none"
    console.print(f"anomalies: {injected}")
    console.print(f"manifest: {result.manifest_path}")
    return 0


def _simulate(args) -> int:
    from pipelines.cli import UserError
    from pipelines.lib.databases import database_urls
    from pipelines.source.simulate import SimulateError, simulate

    try:
        result = simulate(database_urls().ops, days=args.days, seed=args.seed, progress=True)
    except SimulateError as error:
        raise UserError(str(error)) from error
    actions = ", ".join(f"{name} {n}" for name, n in sorted(result.actions.items()))
    print(f"simulated {result.first_day} .. {result.last_day} in {result.seconds:.1f} s: {actions}")
    return 0
