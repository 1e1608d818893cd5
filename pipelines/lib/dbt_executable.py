"""`kennelworks-dbt`: dbt's own command line, as Dagster's dbt steps run it.

It differs from `dbt` in two ways, both for the runs that start it every night:
* the cyclic garbage collector is paused for the command and skipped at exit
  (pipelines.lib.collector);
* `--version` is answered from the installed packages' metadata. dagster-dbt asks for it
  before every dbt step (`DbtCliResource._cli_version`, a new resource each step). dbt's own
  answer imports dbt and asks PyPI for its latest release: 2.1 s here, and a wait on the network
  wherever the registry is unreachable. This one prints the same first lines, without the
  latest release, in 0.1 s.
"""

from __future__ import annotations

import gc
import sys
from importlib.metadata import version
from typing import NoReturn

from pipelines.lib import collector


def version_text() -> str:
    """What `dbt --version` prints of the installed versions (dbt-core, then the adapter)."""
    return f"Core:\n  - installed: {version('dbt-core')}\n\nPlugins:\n  - postgres: {version('dbt-postgres')}"


def run() -> NoReturn:
    if sys.argv[1:] == ["--version"]:
        print(version_text())
        sys.exit(0)
    gc.disable()  # for the whole process, which ends with the command
    from dbt.cli.main import cli

    try:
        code = cli()  # click's standalone mode exits with dbt's code
    except SystemExit as done:
        code = done.code
    collector.exit_without_collecting(code)
