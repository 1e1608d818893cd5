"""`warehouse extract [--table T] [--full-refresh] [--reconcile-keys]`: land source tables in raw."""

from __future__ import annotations

import argparse
import logging
import sys


def register(commands: argparse._SubParsersAction) -> None:
    extract = commands.add_parser(
        "extract",
        help="land the source tables in the warehouse raw schema (runs the raw/<table> Dagster assets)",
    )
    extract.add_argument("--table", action="append", metavar="T", help="only this table (repeatable)")
    extract.add_argument(
        "--full-refresh", action="store_true", help="rebuild raw from the whole source (atomic; adopts new columns)"
    )
    extract.add_argument(
        "--reconcile-keys", action="store_true", help="also compare all source keys to flag missed hard deletes"
    )
    extract.set_defaults(handler=_extract)


def _extract(args) -> int:
    from pipelines.cli import UserError
    from pipelines.defs.ingestion.run import extract
    from pipelines.lib.databases import database_urls, mask_url
    from pipelines.lib.extract import table_spec

    try:
        tables = [table_spec(name).name for name in args.table] if args.table else None
    except KeyError as error:
        raise UserError(error.args[0]) from None
    urls = database_urls()
    print(f"extracting {mask_url(urls.ops)} -> {mask_url(urls.warehouse)} (raw)", flush=True)
    _print_progress()
    run = extract(tables, full_refresh=args.full_refresh, reconcile_keys=args.reconcile_keys)
    for table, message in sorted(run.failures.items()):
        print(f"raw.{table}: FAILED: {message}", file=sys.stderr)
    if not run.success:
        failed = len(run.failures) or "some"
        raise UserError(f"{failed} table(s) failed; they keep their previous state, the others are loaded")
    return 0


class _ProgressLines(logging.Handler):
    """Prints each record to the current stdout (looked up at print time, not at setup)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), flush=True)


def _print_progress() -> None:
    """One line per table as each load commits (load_table logs its summary)."""
    logger = logging.getLogger("pipelines.extract")
    if not any(isinstance(handler, _ProgressLines) for handler in logger.handlers):
        logger.addHandler(_ProgressLines())
    logger.setLevel(logging.INFO)
    logger.propagate = False
