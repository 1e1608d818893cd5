"""`warehouse`: the one command-line entry point.

Each concern registers its sub-commands from its own module (listed in COMMAND_MODULES),
so adding a command never means editing another concern's code. Heavy imports happen
inside the handlers, keeping `warehouse --help` fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "pipelines.cli.db",
    "pipelines.cli.source",
    "pipelines.cli.extract",
    "pipelines.cli.access",
    "pipelines.cli.finance",
    "pipelines.cli.quality",
    "pipelines.cli.transform",
    "pipelines.cli.orchestration",
    "pipelines.cli.demo",
)


class UserError(Exception):
    """An error the user can fix; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warehouse", description="Kennelworks reporting warehouse")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipelines.lib.pgserver import ServerError

    try:
        return args.handler(args) or 0
    except (UserError, ServerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """The `warehouse` executable: main(), then exit without the interpreter's walk over what
    the command left (pipelines.lib.collector; 1.1 s after a dbt build)."""
    from pipelines.lib.collector import exit_without_collecting

    exit_without_collecting(main())


if __name__ == "__main__":
    run()
