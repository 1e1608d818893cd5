"""The suites against the generator's injected anomalies, through the real pipeline.

One source at scale 0.01 with the default anomaly rates is generated, extracted and
built by dbt once for the module; the generator's manifest says exactly which rows are
orphaned, cross-tenant or drifted. The raw suites must report each of those rows under
the expectation named after its kind, with the manifest's count, and nothing else; the
mart and reporting suites must pass, because the integrity models quarantine those rows.
Then the Dagster bridge: an orphan forced into a mart fails its blocking check, and the
reporting asset downstream is not materialized in that run.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

import dagster as dg
import psycopg
import pytest

from expectations.catalog import suites_for
from expectations.runner import run_suites
from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all
from pipelines.settings import get_settings
from pipelines.source.generate import generate
from pipelines.source.manifest import read_manifest

RUN_DATE = date(2026, 6, 30)
# The kinds the data-quality suites own; the other kinds (labels, odd text, bad dates and
# amounts) are the integrity models' business.
CHECKED_KINDS = ("orphan_", "cross_tenant_", "drifted_")


@pytest.fixture(scope="module")
def pipeline(make_database, tmp_path_factory):
    ops, warehouse = make_database("dqm_ops"), make_database("dqm_wh")
    manifest_path = tmp_path_factory.mktemp("manifest") / "manifest.json"
    generate(ops, scale=0.01, seed=11, reference_date=RUN_DATE, manifest_path=manifest_path)
    load_all(ops, warehouse)
    dbt_build(warehouse, vars={"run_date": RUN_DATE.isoformat()})
    manifest = read_manifest(manifest_path)
    injected: dict[str, set[str]] = defaultdict(set)
    for entry in manifest["anomalies"]:
        if entry["anomaly"].startswith(CHECKED_KINDS):
            injected[entry["anomaly"]].add(entry["key"])
    return ops, warehouse, dict(injected)


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory):
    return tmp_path_factory.mktemp("gx")


def test_each_injected_row_is_reported_by_the_expectation_named_after_its_kind(pipeline, gx_root):
    _, warehouse, injected = pipeline
    assert injected, "the generator injected nothing the suites check"
    suites = suites_for("raw")
    run = run_suites(warehouse, suites, gx_project_root=gx_root)

    reported = {o.expectation: o for suite in run.suites for o in suite.outcomes}
    for kind, keys in injected.items():
        assert reported[kind].unexpected_count == len(keys), kind
        assert not reported[kind].success
        assert {str(row["record_key"]) for row in reported[kind].sample} <= keys, kind
    for name, outcome in reported.items():
        if name not in injected:
            assert outcome.success and outcome.unexpected_count == 0, (name, outcome.sample[:3])

    # exactly those rows, not only as many: every check's full set of keys
    with psycopg.connect(warehouse) as conn:
        for suite in suites:
            for check in suite.checks:
                if check.name in injected:
                    rows = conn.execute(check.query.format(batch=suite.relation)).fetchall()
                    assert {str(row[0]) for row in rows} == injected[check.name], check.name


def test_marts_and_reporting_hold_none_of_them(pipeline, gx_root):
    _, warehouse, _ = pipeline
    run = run_suites(warehouse, suites_for("marts") + suites_for("reporting"), gx_project_root=gx_root)

    failed = {o.expectation: (o.unexpected_count, o.error, o.sample[:2]) for s in run.suites for o in s.failed}
    assert failed == {}
    assert len(run.suites) == len(suites_for("marts")) + len(suites_for("reporting"))


def test_an_orphan_forced_into_a_mart_blocks_the_reporting_asset_downstream(pipeline, monkeypatch):
    ops, warehouse, _ = pipeline
    for name, url in (("OPS_DATABASE_URL", ops), ("WAREHOUSE_DATABASE_URL", warehouse), ("DAGSTER_DATABASE_URL", ops)):
        monkeypatch.setenv(name, url)
    get_settings.cache_clear()
    try:
        from pipelines.definitions import defs

        report = dg.AssetKey(["reporting", "rpt_customers_with_pets"])
        orphans_check = dg.AssetCheckKey(dg.AssetKey(["marts", "dim_pets"]), "orphans")
        guarded = dg.define_asset_job(
            "guarded_report",
            selection=dg.AssetSelection.assets(report) | dg.AssetSelection.checks(orphans_check),
        )
        job = dg.Definitions.merge(defs, dg.Definitions(jobs=[guarded])).resolve_job_def("guarded_report")
        run_config = {"ops": {"reporting_dbt_models": {"config": {"run_date": RUN_DATE.isoformat()}}}}

        clean = job.execute_in_process(run_config=run_config, raise_on_error=False)
        assert clean.success
        # nothing changed since the fixture's build: dbt leaves the report out (changed only),
        # and Dagster still records it as current, so the steps after it run
        (materialization,) = [e for e in clean.get_asset_materialization_events() if e.asset_key == report]
        assert "kennelworks/up_to_date" in materialization.materialization.metadata

        with psycopg.connect(warehouse) as conn:
            customer = conn.execute("select customer_id, tenant_id from marts.dim_customers limit 1").fetchone()
            conn.execute(
                "insert into marts.dim_pets (pet_id, tenant_id, customer_id, pet_name, species, is_active, is_deleted) "
                "values (%s, %s, %s, 'Stray', 'dog', true, false)",
                (uuid.uuid4(), customer[1], uuid.uuid4()),
            )
        blocked = job.execute_in_process(run_config=run_config, raise_on_error=False)
    finally:
        get_settings.cache_clear()

    (evaluation,) = [e for e in blocked.get_asset_check_evaluations() if e.asset_check_key == orphans_check]
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["orphan_pet_customer.unexpected_count"].value == 1
    assert report not in {event.asset_key for event in blocked.get_asset_materialization_events()}
    assert not blocked.success
    with psycopg.connect(warehouse) as conn:
        recorded = conn.execute(
            "select success, unexpected_count from dq.validation_results "
            "where run_id = %s and expectation = 'orphan_pet_customer'",
            (blocked.run_id,),
        ).fetchall()
    assert recorded == [(False, 1)]
    with psycopg.connect(warehouse) as conn:  # the next test builds this warehouse again
        conn.execute("delete from marts.dim_pets where pet_name = 'Stray'")


def test_a_calendar_row_whose_pet_resolves_to_nothing_fails_the_reporting_check_naming_the_column(pipeline, gx_root):
    """The calendar reads the history: a live stay pointing at a pet the marts do not hold is
    reported by `unresolved_reservation_calendar`, with `unresolved` = [pet_id]."""
    _, warehouse, _ = pipeline
    suites = [suite for suite in suites_for("reporting") if "rpt_reservation_calendar" in suite.relation]
    with psycopg.connect(warehouse, autocommit=True) as conn:
        reservation, pet = conn.execute(
            "select reservation_id, pet_id from marts.fct_reservation_history "
            "where not is_deleted and pet_id is not null order by reservation_id limit 1"
        ).fetchone()
        conn.execute(
            "update marts.fct_reservation_history set pet_id = %s where reservation_id = %s",
            (uuid.uuid4(), reservation),
        )
        try:
            run = run_suites(warehouse, suites, gx_project_root=gx_root)
        finally:
            conn.execute(
                "update marts.fct_reservation_history set pet_id = %s where reservation_id = %s", (pet, reservation)
            )
    (outcome,) = [
        o for suite in run.suites for o in suite.outcomes if o.expectation == "unresolved_reservation_calendar"
    ]
    assert not outcome.success and outcome.unexpected_count == 1
    (row,) = outcome.sample
    assert (row["reservation_id"], row["unresolved"]) == (reservation, ["pet_id"])


def test_deleted_rows_stay_flagged_whatever_their_parents_but_not_with_another_tenant_or_bad_values(pipeline, gx_root):
    """A soft-deleted reservation stays in the history (and the calendar), flagged, though its
    pet is missing; one pointing into another tenant, or ending before it starts, is quarantined
    all the same: the build and every mart and reporting suite pass."""
    ops, warehouse, injected = pipeline
    orphan, cross_tenant = (
        sorted(injected["orphan_reservation_pet"])[0],
        sorted(injected["cross_tenant_reservation_pet"])[0],
    )
    with psycopg.connect(ops) as conn:
        (invalid,) = conn.execute(
            "select id::text from app.reservations where deleted_at is null and end_date > start_date "
            "and id <> all(%s::uuid[]) order by id limit 1",
            ([orphan, cross_tenant],),
        ).fetchone()
        conn.execute(
            "update app.reservations set end_date = start_date - 2 where id = %s::uuid",
            (invalid,),
        )
        conn.execute(
            "update app.reservations set deleted_at = now(), updated_at = now() where id = any(%s::uuid[])",
            ([orphan, cross_tenant, invalid],),
        )
    load_all(ops, warehouse)
    dbt_build(warehouse, vars={"run_date": RUN_DATE.isoformat()})  # raises if a dbt test fails

    run = run_suites(warehouse, suites_for("marts") + suites_for("reporting"), gx_project_root=gx_root)
    failed = {o.expectation: (o.unexpected_count, o.error, o.sample[:2]) for s in run.suites for o in s.failed}
    assert failed == {}
    keys = [orphan, cross_tenant, invalid]
    with psycopg.connect(warehouse) as conn:
        reasons = dict(
            conn.execute(
                "select record_key, reason from dq.quarantined_rows "
                "where source_table = 'reservations' and record_key = any(%s)",
                (keys,),
            ).fetchall()
        )
        kept = conn.execute(
            "select reservation_id::text, is_deleted from reporting.rpt_reservation_calendar "
            "where reservation_id = any(%s::uuid[])",
            (keys,),
        ).fetchall()
    assert reasons == {cross_tenant: "cross_tenant: pet", invalid: "invalid: end_date before start_date"}
    assert kept == [(orphan, True)]
