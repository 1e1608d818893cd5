"""Alerts about failed runs: one row each in meta.alerts, and a log line.

Kept as a table in the warehouse so whoever watches the warehouse (a dashboard, a
pager bridge) reads one place; the sensor that writes it is in defs/orchestration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg

log = logging.getLogger(__name__)

ALERTS_DDL = """
create schema if not exists meta;
create table if not exists meta.alerts (
    alert_id bigint generated always as identity primary key,
    run_id text not null,
    job_name text not null,
    failed_step text,
    error text not null,
    raised_at timestamptz not null default now(),
    unique (run_id, failed_step)
);
"""


@dataclass(frozen=True)
class RunAlert:
    run_id: str
    job_name: str
    failed_step: str | None
    error: str


def record_alert(warehouse_url: str, alert: RunAlert) -> bool:
    """Store the alert (once per run and step); returns False when it was already recorded."""
    log.error("run %s of %s failed at %s: %s", alert.run_id, alert.job_name, alert.failed_step or "-", alert.error)
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(ALERTS_DDL)
        inserted = conn.execute(
            """
            insert into meta.alerts (run_id, job_name, failed_step, error)
            values (%s, %s, %s, %s)
            on conflict (run_id, failed_step) do nothing
            """,
            (alert.run_id, alert.job_name, alert.failed_step, alert.error[:10_000]),
        ).rowcount
    return inserted == 1
