"""Watching the runs: failures become alerts; stale reporting relations warn."""

import warnings
from datetime import timedelta

import dagster as dg

from pipelines.defs.orchestration.run import error_message
from pipelines.lib.alerts import RunAlert, record_alert
from pipelines.lib.databases import database_urls


def failure_alert(context: dg.RunFailureSensorContext) -> RunAlert:
    """The alert for a failed run: its first failed step and that step's error."""
    step_failures = context.get_step_failure_events()
    first = step_failures[0] if step_failures else None
    if first is not None and first.event_specific_data and first.event_specific_data.error:
        error = error_message(first.event_specific_data.error)
    else:
        error = context.failure_event.message or "run failed"
    return RunAlert(
        run_id=context.dagster_run.run_id,
        job_name=context.dagster_run.job_name,
        failed_step=first.step_key if first is not None else None,
        error=error,
    )


@dg.run_failure_sensor(name="record_failed_runs", default_status=dg.DefaultSensorStatus.RUNNING)
def record_failed_runs(context: dg.RunFailureSensorContext) -> None:
    alert = failure_alert(context)
    record_alert(database_urls().warehouse, alert)
    context.log.error(f"recorded alert for run {alert.run_id} ({alert.job_name}) at {alert.failed_step}")


# Reporting relations analysts open every day, and how stale each may get before it warns.
FRESHNESS = {
    ("reporting", "rpt_current_occupancy"): timedelta(hours=2),
    ("reporting", "rpt_kennel_occupancy_daily"): timedelta(hours=2),
    ("reporting", "rpt_reservation_calendar"): timedelta(hours=2),
    ("reporting", "rpt_finance_daily"): timedelta(hours=26),
    ("reporting", "rpt_finance_monthly"): timedelta(hours=26),
}


def _freshness_checks() -> list[dg.AssetChecksDefinition]:
    checks: list[dg.AssetChecksDefinition] = []
    for delta in sorted(set(FRESHNESS.values())):
        keys = [dg.AssetKey(list(key)) for key, limit in FRESHNESS.items() if limit == delta]
        checks.extend(
            dg.build_last_update_freshness_checks(
                assets=keys, lower_bound_delta=delta, severity=dg.AssetCheckSeverity.WARN
            )
        )
    return checks


# Freshness checks rather than the newer FreshnessPolicy: a check is evaluated on a
# schedule by a sensor, shows as a WARN on the asset, and can be run in a test; the
# policy needs the freshness daemon and has no per-run result to assert on.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.SupersessionWarning)
    FRESHNESS_CHECKS = _freshness_checks()
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=FRESHNESS_CHECKS, name="reporting_freshness", default_status=dg.DefaultSensorStatus.RUNNING
    )

SENSORS = [record_failed_runs, freshness_sensor]
