"""The GX bridge against a real PostgreSQL: exact counts, capped samples, failures never silent.

A small source (two tenants) is landed in raw by the real extraction; the suites run
through a GX file context in a temporary directory, so the project's Data Docs are not
touched.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from expectations import drift, orphans
from expectations.checks import Check, Severity, Suite
from expectations.results import latest_results
from expectations.runner import run_suites
from pipelines.lib.extract import load_all
from pipelines.source.create import create_source_schema

TENANT_A, TENANT_B = uuid.uuid4(), uuid.uuid4()
DELETED_CUSTOMER = uuid.uuid4()
ORPHAN_PETS = 250  # beyond the 200 rows GX fetches, and the 20 we keep


@pytest.fixture(scope="module")
def warehouse(make_database) -> str:
    ops, warehouse = make_database("dqr_ops"), make_database("dqr_wh")
    create_source_schema(ops)
    with psycopg.connect(ops) as conn:
        for tenant, slug in ((TENANT_A, "a"), (TENANT_B, "b")):
            conn.execute(
                "insert into app.tenants (id, slug, name, timezone, plan) values (%s, %s, %s, 'UTC', 'pro')",
                (tenant, slug, slug),
            )
        conn.execute(
            "insert into app.customers (id, tenant_id, first_name, last_name, deleted_at) "
            "values (%s, %s, 'Gone', 'Away', now())",
            (DELETED_CUSTOMER, TENANT_A),
        )
        conn.execute(
            "insert into app.pets (tenant_id, customer_id, name, species) "
            "select %s, %s, 'Rex ' || g, 'dog' from generate_series(1, %s) as g",
            (TENANT_A, DELETED_CUSTOMER, ORPHAN_PETS),
        )
    load_all(ops, warehouse)
    return warehouse


def test_counts_are_exact_beyond_the_fetch_limit_and_samples_are_capped(warehouse, tmp_path):
    run = run_suites(warehouse, orphans.raw_suites(), gx_project_root=tmp_path)

    (outcome,) = run.outcome("orphan_pet_customer")
    assert not outcome.success
    assert outcome.unexpected_count == ORPHAN_PETS
    assert len(outcome.sample) == 20
    assert {row["customer_id"] for row in outcome.sample} == {DELETED_CUSTOMER}
    # every other relation is clean, and says so
    others = [o for suite in run.suites for o in suite.outcomes if o.expectation != "orphan_pet_customer"]
    assert others and all(o.success and o.unexpected_count == 0 for o in others)
    assert not run.success
    assert (tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def test_every_outcome_lands_in_validation_results(warehouse, tmp_path):
    run = run_suites(warehouse, orphans.raw_suites(), gx_project_root=tmp_path, run_id="run-under-test")

    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            "select expectation, success, unexpected_count, jsonb_array_length(sample), sample -> 0 ->> 'customer_id' "
            "from dq.validation_results where run_id = 'run-under-test' order by expectation"
        ).fetchall()
    expected = sorted(o.expectation for suite in run.suites for o in suite.outcomes)
    assert [row[0] for row in rows] == expected
    by_name = {row[0]: row[1:] for row in rows}
    assert by_name["orphan_pet_customer"] == (False, ORPHAN_PETS, 20, str(DELETED_CUSTOMER))
    assert by_name["orphan_reservation_pet"] == (True, 0, 0, None)
    latest = {row["expectation"]: row for row in latest_results(warehouse)}
    assert latest["orphan_pet_customer"]["run_id"] == "run-under-test"


def test_a_check_that_cannot_run_fails_with_its_error(warehouse, tmp_path):
    broken = Suite(
        "orphans",
        "raw.pets",
        Severity.ERROR,
        (Check("orphan_pet_owner", "select id from {batch} join raw.no_such_table using (id)", "broken on purpose"),),
    )
    run = run_suites(warehouse, [broken], gx_project_root=tmp_path)

    (outcome,) = run.outcome("orphan_pet_owner")
    assert not outcome.success
    assert "no_such_table" in outcome.error
    assert not run.success


def test_stats_tolerance_decides_what_counts_as_drift(warehouse, tmp_path):
    # one customer with 1,000 m of activity whose stored total says 1,040 m
    customer = uuid.uuid4()
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "insert into raw.activities (id, tenant_id, customer_id, activity_date, distance_m, duration_s, "
            "created_at, updated_at, _extracted_at, _batch_id) "
            "values (%s, %s, %s, current_date, 1000, 600, now(), now(), now(), %s)",
            (uuid.uuid4(), TENANT_A, customer, uuid.uuid4()),
        )
        conn.execute(
            "insert into raw.customer_stats (customer_id, tenant_id, total_distance_m, total_duration_s, "
            "activity_count, created_at, updated_at, _extracted_at, _batch_id) "
            "values (%s, %s, 1040, 600, 1, now(), now(), now(), %s)",
            (customer, TENANT_A, uuid.uuid4()),
        )
    try:
        exact = run_suites(warehouse, drift.stats_suites(), gx_project_root=tmp_path)
        tolerance = drift.StatsTolerance(distance_m=50)
        tolerant = run_suites(warehouse, drift.stats_suites(tolerance), gx_project_root=tmp_path)
    finally:
        with psycopg.connect(warehouse) as conn:
            conn.execute("delete from raw.activities where customer_id = %s", (customer,))
            conn.execute("delete from raw.customer_stats where customer_id = %s", (customer,))

    (drifted,) = exact.outcome("drifted_customer_stats")
    assert drifted.unexpected_count == 1
    assert drifted.sample[0]["stored_distance_m"] == 1040
    assert drifted.sample[0]["recomputed_distance_m"] == 1000
    assert tolerant.outcome("drifted_customer_stats")[0].success


def test_volume_drift_warns_beyond_three_sigma_of_the_trailing_window(warehouse, tmp_path):
    today = datetime(2026, 3, 1, 6, tzinfo=UTC)
    history = [(today - timedelta(days=day), 100 + (day % 3)) for day in range(1, 29)]  # 100..102 rows a day

    def volume_on(latest_rows: int):
        with psycopg.connect(warehouse) as conn:
            conn.execute("delete from meta.load_log where table_name = 'pets'")
            for started_at, rows in [*history, (today, latest_rows)]:
                conn.execute(
                    "insert into meta.load_log (batch_id, table_name, mode, rows_read, rows_inserted, rows_updated, "
                    "rows_flagged_deleted, bytes, seconds, started_at) "
                    "values (%s, 'pets', 'incremental', %s, %s, 0, 0, 0, 1, %s)",
                    (uuid.uuid4(), rows, rows, started_at),
                )
        suite = Suite("volume_drift", "raw.pets", Severity.WARNING, (drift.volume_check("pets"),))
        return run_suites(warehouse, [suite], gx_project_root=tmp_path).outcome("volume_pets")[0]

    normal, spike = volume_on(101), volume_on(400)

    assert normal.success
    assert not spike.success
    assert spike.sample[0]["row_volume"] == 400
    assert json.loads(json.dumps(spike.sample[0], default=str))["load_date"] == "2026-03-01"


def test_gx_keeps_the_newest_runs_of_each_suite_and_the_history_keeps_every_outcome(warehouse, tmp_path):
    """GX rebuilds its Data Docs index from every stored validation, so its store keeps only the
    newest runs (runner.KEEP_RUNS); dq.validation_results keeps them all, the links to pages
    removed cleared."""
    runs = [
        run_suites(warehouse, orphans.raw_suites()[:1], gx_project_root=tmp_path, run_id=f"keep-{n}", keep_runs=2)
        for n in range(3)
    ]
    stored = list((tmp_path / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert len(stored) == 2
    with psycopg.connect(warehouse) as conn:
        links = dict(
            conn.execute(
                "select run_id, data_docs_url from dq.validation_results where run_id like 'keep-%%'"
            ).fetchall()
        )
    assert set(links) == {"keep-0", "keep-1", "keep-2"}  # the history keeps every run
    assert links["keep-0"] is None  # its page is gone, and so is the link
    for run in runs[1:]:
        (outcome,) = [o for suite in run.suites for o in suite.outcomes][:1]
        assert links[run.run_id] == outcome.data_docs_url
        assert Path(outcome.data_docs_url.removeprefix("file://")).exists()
