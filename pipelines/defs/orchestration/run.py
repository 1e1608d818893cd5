"""Run a job of the definitions in this process, on the project's Dagster instance.

The path `warehouse run` (and `make demo`) takes: the same definitions, executor and
storage as a scheduled run, so a run started here shows in the UI with its history.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

from pipelines.lib.dagster_home import dagster_environment
from pipelines.lib.databases import database_urls
from pipelines.lib.environ import temporary_environ
from pipelines.settings import Settings, get_settings

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


class RunRequestError(ValueError):
    """A job or partition that does not exist; the message names it and what does."""


@dataclass(frozen=True)
class JobRun:
    run_id: str
    success: bool
    failed_steps: dict[str, str]
    materialized: list[str]


@contextmanager
def project_instance(settings: Settings | None = None, dagster_url: str | None = None):
    """The Dagster instance of the project's dagster.yaml (under the settings' home) on the
    `dagster` database (runs, events, schedules), or on `dagster_url`."""
    settings = settings or get_settings()
    url = dagster_url or database_urls(settings).dagster
    with temporary_environ(dagster_environment(settings, url)), dg.DagsterInstance.get() as instance:
        yield instance


def partition_tags(job: dg.JobDefinition, partition: str | None, first: str | None, last: str | None) -> dict:
    """Run tags for one partition or a range (one run, BackfillPolicy.single_run style)."""
    if partition is None and first is None and last is None:
        return {}
    partitions_def = job.partitions_def
    if partitions_def is None:
        raise RunRequestError(f"job {job.name} is not partitioned")
    known = set(partitions_def.get_partition_keys())
    for key in (partition, first, last):
        if key is not None and key not in known:
            keys = partitions_def.get_partition_keys()
            raise RunRequestError(f"{key!r} is not a partition of {job.name} ({keys[0]} .. {keys[-1]})")
    if partition is not None:
        return {"dagster/partition": partition}
    if first is None or last is None:
        raise RunRequestError("a range needs both --from and --to")
    if first > last:
        raise RunRequestError(f"--from {first} is after --to {last}")
    return {RANGE_START: first, RANGE_END: last}


def run_job(
    job_name: str,
    *,
    partition: str | None = None,
    first: str | None = None,
    last: str | None = None,
    run_config: dict | None = None,
    instance: dg.DagsterInstance | None = None,
) -> JobRun:
    """Execute `job_name` in process; failures are returned, not raised."""
    from pipelines.definitions import defs

    names = sorted(job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__"))
    if job_name not in names:
        raise RunRequestError(f"no job named {job_name!r}; jobs: {', '.join(names)}")
    job = defs.resolve_job_def(job_name)
    tags = partition_tags(job, partition, first, last)
    if instance is None:
        with project_instance() as active:
            return _execute(job, tags, run_config, active)
    return _execute(job, tags, run_config, instance)


def error_message(error) -> str:
    """Dagster wraps the user's exception ("Error occurred while executing op ..."): give the cause too."""
    messages = [error.message.strip()]
    while error.cause is not None:
        error = error.cause
        messages.append(error.message.strip())
    return " <- ".join(reversed(messages)) if len(messages) > 1 else messages[0]


# The terminal shows each step's own progress lines; Dagster's event stream stays in the
# instance (the UI shows it) instead of flooding the console.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _execute(job, tags, run_config, instance) -> JobRun:
    config = {**QUIET_CONSOLE, **(run_config or {})}
    result = job.execute_in_process(instance=instance, tags=tags, run_config=config, raise_on_error=False)
    failures = {}
    for event in result.get_step_failure_events():
        error = event.event_specific_data.error if event.event_specific_data else None
        failures[event.step_key] = error_message(error) if error else "failed"
    materialized = sorted(
        {event.asset_key.to_user_string() for event in result.get_asset_materialization_events() if event.asset_key}
    )
    return JobRun(run_id=result.run_id, success=result.success, failed_steps=failures, materialized=materialized)
