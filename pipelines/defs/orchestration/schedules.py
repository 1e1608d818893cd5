"""When the jobs run (UTC). Running by default under the daemon; `warehouse schedule off` stops them."""

import dagster as dg

from pipelines.defs.orchestration.jobs import archive_monthly, occupancy_hourly, warehouse_nightly

RUNNING = dg.DefaultScheduleStatus.RUNNING

SCHEDULES = [
    # 02:30 UTC: after midnight in every US and European tenant's zone, before their mornings.
    dg.ScheduleDefinition(
        name="warehouse_nightly_schedule", job=warehouse_nightly, cron_schedule="30 2 * * *",
        execution_timezone="UTC", default_status=RUNNING,
    ),
    # Five past each hour, so the hourly run never overlaps the nightly run's start.
    dg.ScheduleDefinition(
        name="occupancy_hourly_schedule", job=occupancy_hourly, cron_schedule="5 * * * *",
        execution_timezone="UTC", default_status=RUNNING,
    ),
    # The 1st at 04:00 UTC, after that night's nightly run has landed the month's last day.
    dg.ScheduleDefinition(
        name="archive_monthly_schedule", job=archive_monthly, cron_schedule="0 4 1 * *",
        execution_timezone="UTC", default_status=RUNNING,
    ),
]  # fmt: skip
