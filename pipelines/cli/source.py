"""`warehouse source create | generate | simulate`: the operational source database."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    source = commands.add_parser("source", help="the operational source database (ops)")
    actions = source.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("create", help="create the app schema (idempotent)").set_defaults(handler=_create)


def _create(args) -> int:
    from pipelines.lib.databases import database_urls
    from pipelines.source.create import create_source_schema

    create_source_schema(database_urls().ops)
    print("source schema app is in place")
    return 0
