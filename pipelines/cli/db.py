"""`warehouse db up | down | status | url`: the embedded PostgreSQL server."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="manage the embedded PostgreSQL server")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("up", help="start (or reuse) the server and create the databases").set_defaults(handler=_up)
    actions.add_parser("down", help="stop the server").set_defaults(handler=_down)
    actions.add_parser("status", help="is it running, and where").set_defaults(handler=_status)
    url = actions.add_parser("url", help="print a connection URL")
    url.add_argument("database", nargs="?", default="warehouse", choices=("ops", "warehouse", "dagster"))
    url.add_argument("--show-password", action="store_true", help="print the password in clear (for scripts)")
    url.set_defaults(handler=_url)


def _server():
    from pipelines.lib.databases import embedded_server

    return embedded_server()


def _up(args) -> int:
    from pipelines.lib.databases import mask_url

    info = _server().up()
    print(f"PostgreSQL running (pid {info.pid}) at {mask_url(info.url('warehouse'))}")
    return 0


def _down(args) -> int:
    print("stopped" if _server().down() else "not running")
    return 0


def _status(args) -> int:
    from pipelines.lib.databases import mask_url
    from pipelines.settings import get_settings

    settings = get_settings()
    info = _server().status()
    if info is None:
        print(f"not running (data directory {settings.pgdata})")
        return 1
    print(f"running: pid {info.pid}, port {info.port}, data directory {settings.pgdata}")
    print(f"  {mask_url(info.url('warehouse'))}")
    return 0


def _url(args) -> int:
    from pipelines.lib.databases import database_urls, mask_url

    url = getattr(database_urls(), args.database)
    print(url if args.show_password else mask_url(url))
    return 0
