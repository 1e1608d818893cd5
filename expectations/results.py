"""`dq.validation_results`: the history of every expectation's outcome, in the warehouse.

Great Expectations has no PostgreSQL results store, so each run's outcomes are written
here, one row per expectation, in one transaction: a run is recorded whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.lib.databases import connect

SAMPLE_ROWS = 20

DDL = """
create schema if not exists dq;

create table if not exists dq.validation_results (
    result_id bigint generated always as identity primary key,
    run_id text not null,
    suite text not null,
    relation text not null,
    expectation text not null,
    severity text not null,
    success boolean not null,
    observed_value jsonb,
    unexpected_count bigint,
    sample jsonb not null default '[]'::jsonb,
    error text,
    data_docs_url text,
    checked_at timestamptz not null default now()
);

create index if not exists validation_results_latest
    on dq.validation_results (suite, expectation, checked_at desc);

create index if not exists validation_results_run
    on dq.validation_results (run_id);
"""


@dataclass(frozen=True)
class ExpectationOutcome:
    """What one expectation found in one run; `sample` holds at most SAMPLE_ROWS rows."""

    suite: str
    relation: str
    expectation: str
    severity: str
    success: bool
    observed_value: Any = None
    unexpected_count: int | None = None
    sample: list[dict] = field(default_factory=list)
    error: str | None = None
    data_docs_url: str | None = None


def ensure_results_table(warehouse_url: str) -> None:
    with connect(warehouse_url) as conn:
        conn.execute(DDL)


def forget_pages(warehouse_url: str, pages: Sequence[str]) -> None:
    """Clear the Data Docs links of history rows whose pages GX no longer keeps (runner.KEEP_RUNS)."""
    if pages:
        with connect(warehouse_url) as conn:
            conn.execute(
                "update dq.validation_results set data_docs_url = null where data_docs_url = any(%s)", (list(pages),)
            )


def record_outcomes(warehouse_url: str, run_id: str, outcomes: Sequence[ExpectationOutcome]) -> None:
    """Append one row per outcome, all in one transaction."""
    rows = [
        (
            run_id,
            outcome.suite,
            outcome.relation,
            outcome.expectation,
            outcome.severity,
            outcome.success,
            _json(outcome.observed_value),
            outcome.unexpected_count,
            _json(outcome.sample[:SAMPLE_ROWS]),
            outcome.error,
            outcome.data_docs_url,
        )
        for outcome in outcomes
    ]
    with connect(warehouse_url) as conn, conn.cursor() as cursor:
        cursor.executemany(
            """
            insert into dq.validation_results (
                run_id, suite, relation, expectation, severity, success,
                observed_value, unexpected_count, sample, error, data_docs_url
            )
            values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s::jsonb, %s, %s)
            """,
            rows,
        )


LATEST_SQL = """
select distinct on (suite, expectation)
    run_id, suite, relation, expectation, severity, success,
    observed_value, unexpected_count, sample, error, data_docs_url, checked_at
from dq.validation_results
order by suite, expectation, checked_at desc, result_id desc
"""


def latest_results(warehouse_url: str) -> list[dict]:
    """The most recent outcome of every expectation ever run, ordered by suite."""
    with connect(warehouse_url) as conn, conn.cursor() as cursor:
        if conn.execute("select to_regclass('dq.validation_results')").fetchone()[0] is None:
            return []
        cursor.execute(LATEST_SQL)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _json(value: Any) -> str | None:
    # uuid, date and Decimal values from the sample rows become strings
    return None if value is None else json.dumps(value, default=str)
