"""Simulated app traffic against a real PostgreSQL: it goes through the triggers, moves
updated_at forward, leaves the audit trail the warehouse reads, and keeps the manifest exact."""

from __future__ import annotations

import json
from datetime import date, timedelta

import psycopg
import pytest

from pipelines.source.generate import generate
from pipelines.source.simulate import SimulateError, simulate
from pipelines.source.verify import manifest_mismatches

REFERENCE = date(2026, 3, 20)
DAYS = 3
TOUCHED = ("reservations", "invoices", "invoice_lines", "payments", "refunds", "activities", "customer_stats")


@pytest.fixture(scope="module")
def simulated(make_database, tmp_path_factory):
    url = make_database("sim")
    manifest = tmp_path_factory.mktemp("sim") / "manifest.json"
    generate(url, scale=0.01, seed=11, reference_date=REFERENCE, manifest_path=manifest)
    with psycopg.connect(url) as conn:
        before = {t: conn.execute(f"select max(updated_at) from app.{t}").fetchone()[0] for t in TOUCHED}
        started = conn.execute("select now()").fetchone()[0]
    result = simulate(url, days=DAYS)
    return url, before, started, result, json.loads(manifest.read_text())


def test_traffic_moves_updated_at_past_every_earlier_value(simulated):
    url, before, started, result, _ = simulated
    assert result.first_day == REFERENCE + timedelta(days=1)
    assert result.last_day == REFERENCE + timedelta(days=DAYS)
    with psycopg.connect(url) as conn:
        for table in TOUCHED:
            changed = conn.execute(
                f"select count(*) from app.{table} where updated_at > %s", (before[table],)
            ).fetchone()[0]
            assert changed > 0, table
        # everything written by the simulation is stamped after the generated data; late commits
        # are a few minutes behind their commit, never more than the 15-minute extraction lookback
        oldest_new = conn.execute("""
            select min((new_values ->> 'updated_at')::timestamptz - changed_at) from app.audit_log
            where action in ('INSERT', 'UPDATE')""").fetchone()[0]
        late = conn.execute("""
            select count(*) from app.audit_log where table_name = 'reservations' and action = 'UPDATE'
            and (new_values ->> 'updated_at')::timestamptz < changed_at - interval '1 minute'""").fetchone()[0]
    assert late > 0
    assert timedelta(minutes=-15) < oldest_new <= timedelta(0)
    assert started > max(before.values())


def test_audit_log_records_inserts_updates_and_deletes(simulated):
    url, _, _, result, _ = simulated
    with psycopg.connect(url) as conn:
        actions = dict(conn.execute("select action, count(*) from app.audit_log group by action").fetchall())
        deleted_tables = {
            row[0] for row in conn.execute("select distinct table_name from app.audit_log where action = 'DELETE'")
        }
        gone = conn.execute("""
            select count(*) from app.audit_log a where action = 'DELETE' and table_name = 'reservations'
            and not exists (select 1 from app.reservations r where r.id = a.record_id)""").fetchone()[0]
        users = {row[0] for row in conn.execute("select distinct changed_by from app.audit_log")}
    assert actions["INSERT"] > 0 and actions["UPDATE"] > 0 and actions["DELETE"] > 0
    assert {"reservations", "activities"} <= deleted_tables
    assert gone == result.actions["hard_deleted"] > 0
    assert users == {"simulator"}


def test_a_reschedule_moves_a_stay_to_another_month(simulated):
    url, _, _, _, _ = simulated
    with psycopg.connect(url) as conn:
        moved = conn.execute("""
            select count(*) from app.audit_log where table_name = 'reservations' and action = 'UPDATE'
            and date_trunc('month', (old_values ->> 'start_date')::date)
                <> date_trunc('month', (new_values ->> 'start_date')::date)""").fetchone()[0]
    assert moved > 0


def test_business_dates_fall_on_the_simulated_days(simulated):
    url, _, _, _, _ = simulated
    days = [REFERENCE + timedelta(days=k) for k in range(1, DAYS + 1)]
    with psycopg.connect(url) as conn:
        paid_on = {
            row[0]
            for row in conn.execute(
                """
            select distinct (p.paid_at at time zone t.timezone)::date from app.payments p
            join app.tenants t on t.id = p.tenant_id where p.created_at > %s""",
                (REFERENCE,),
            )
        }
        walked_on = {
            row[0]
            for row in conn.execute(
                "select distinct activity_date from app.activities where created_at > %s", (REFERENCE,)
            )
        }
        issued_on = {
            row[0]
            for row in conn.execute(
                "select distinct issued_on from app.invoices where updated_at > created_at and issued_on > %s",
                (REFERENCE,),
            )
        }
        through = conn.execute("select simulated_through from generator.runs").fetchone()[0]
    assert paid_on and paid_on <= set(days)
    assert walked_on and walked_on <= set(days)
    assert issued_on and issued_on <= set(days)
    assert through == days[-1]


def test_manifest_stays_exact_and_stats_stay_in_step(simulated):
    """Drift checks find exactly the injected drift, so walks and their stats moved together."""
    url, _, _, _, manifest = simulated
    with psycopg.connect(url) as conn:
        assert manifest_mismatches(conn, manifest["anomalies"]) == []


def test_next_run_continues_after_the_last_simulated_day(simulated):
    url, _, _, _, _ = simulated
    result = simulate(url, days=1)
    assert result.first_day == REFERENCE + timedelta(days=DAYS + 1)


def test_simulating_without_generated_data_is_a_clear_error(make_database):
    with pytest.raises(SimulateError, match="no generated source data"):
        simulate(make_database("nosim"), days=1)
