"""Run raw assets in this process through Dagster: the path `warehouse extract` takes.

Same assets, resources and retry policy as a run launched from the UI, executed with the
in-process executor on an ephemeral instance (no daemon, nothing to clean up).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass

import dagster as dg

from pipelines.defs.ingestion.assets import RAW_ASSETS, asset_key
from pipelines.defs.resources import RESOURCES
from pipelines.lib.extract import REGISTRY, table_spec


@dataclass(frozen=True)
class ExtractRun:
    success: bool
    failures: dict[str, str]  # table -> message
    result: dg.ExecuteInProcessResult


def run_config(tables: Iterable[str], *, full_refresh: bool, reconcile_keys: bool) -> dict:
    """Dagster run config that passes the switches to each selected asset and keeps the console quiet."""
    ops = {
        asset_key(name).to_python_identifier(): {
            "config": {"full_refresh": full_refresh, "reconcile_keys": reconcile_keys}
        }
        for name in tables
    }
    return {"ops": ops, "loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def extract(
    tables: list[str] | None = None,
    *,
    full_refresh: bool = False,
    reconcile_keys: bool = False,
    instance: dg.DagsterInstance | None = None,
) -> ExtractRun:
    """Materialize raw/<table> for `tables` (default: all); failures are returned, not raised."""
    names = [table_spec(name).name for name in tables] if tables else list(REGISTRY)
    with dg.DagsterInstance.ephemeral() if instance is None else nullcontext(instance) as active:
        result = dg.materialize(
            RAW_ASSETS,
            selection=[asset_key(name) for name in names],
            resources=RESOURCES,
            run_config=run_config(names, full_refresh=full_refresh, reconcile_keys=reconcile_keys),
            instance=active,
            raise_on_error=False,
        )
    failures = {}
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        message = data.user_failure_data.description if data.user_failure_data else data.error.message
        failures[event.step_key.removeprefix("raw__")] = message.strip()
    return ExtractRun(success=result.success, failures=failures, result=result)
