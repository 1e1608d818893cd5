"""Changed-only builds (pipelines.lib.build_plan) on a generated warehouse, against real dbt runs.

One source at scale 0.01, extracted and built in full once for the module (which records
every node). Each test then builds with `changed_only=True` and checks what dbt ran and
what the warehouse holds: nothing new builds nothing; a new run date builds the reports that
read it; a simulated day built changed-only leaves the warehouse as a build of every node
does; a dropped table, a failed check and changed code are built again.
"""

from __future__ import annotations

import datetime as dt
import re

import dagster as dg
import psycopg
import pytest

from pipelines.cli import main
from pipelines.lib.access import TRANSFORMER_SCHEMAS
from pipelines.lib.dbt import DBT_TARGET_PATH, DbtError, dbt_build
from pipelines.lib.extract import load_all
from pipelines.settings import get_settings
from pipelines.source.generate import generate
from pipelines.source.simulate import simulate

REFERENCE_DATE = dt.date(2026, 6, 30)
DAY = {"run_date": REFERENCE_DATE.isoformat()}
NEXT_DAY = {"run_date": (REFERENCE_DATE + dt.timedelta(days=1)).isoformat()}

# What reads the run date (its windows, tiers and periods), and what reads those.
RUN_DATE_MODELS = {
    "int_leaderboard_periods",  # week, month, all time
    "int_leaderboard_customer_distances",
    "int_leaderboard_team_distances",
    "rpt_leaderboard_customers",
    "rpt_leaderboard_teams",
    "rpt_kennel_occupancy_daily",  # 1 year back to 90 days ahead
    "int_run_date",  # the date rpt_current_occupancy and the calendar (a view) read
    "rpt_current_occupancy",
    "rpt_ar_aging",  # days past due
    "financial_transactions",  # the archive: completed and older than 12 months
    "fct_financial_transactions",  # the live ledger: the archive's post-hook moves rows out of it
    "int_archived_finance_daily",
    "rpt_finance_daily",
    "rpt_finance_monthly",
}


@pytest.fixture(scope="module")
def built(make_database, tmp_path_factory):
    ops, warehouse = make_database("chg_ops"), make_database("chg_wh")
    target = tmp_path_factory.mktemp("dbt_changed_only")
    generate(ops, scale=0.01, seed=7, reference_date=REFERENCE_DATE)
    load_all(ops, warehouse)
    dbt_build(warehouse, vars=DAY, target_path=target)
    return {"ops": ops, "url": warehouse, "target": target}


def _dbt_keys():
    from pipelines.defs.transform.assets import reporting_dbt_models, warehouse_dbt_models

    assets = [*warehouse_dbt_models.keys, *reporting_dbt_models.keys]
    return assets, [*warehouse_dbt_models.check_keys, *reporting_dbt_models.check_keys]


DBT_ASSETS, DBT_CHECKS = _dbt_keys()


def build(built, vars=NEXT_DAY, changed_only=True):
    return dbt_build(built["url"], vars=vars, target_path=built["target"], changed_only=changed_only)


def models(result) -> set[str]:
    return {node.name for node in result.nodes if node.resource_type == "model"}


def contents(url: str) -> dict[str, tuple[int, str]]:
    """Every modelled relation's rows and a digest of them (order-independent)."""
    with psycopg.connect(url) as conn:
        relations = conn.execute(
            "select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition order by 1",
            (list(TRANSFORMER_SCHEMAS),),
        ).fetchall()
        return {
            name: conn.execute(
                f"select count(*), md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) from {name} t"
            ).fetchone()
            for (name,) in relations
        }


def test_a_build_with_nothing_new_builds_nothing(built):
    assert build(built, vars=DAY).nodes == []


def test_a_new_run_date_builds_the_reports_that_read_it_and_their_checks(built):
    parse_state = built["target"] / "partial_parse.msgpack"
    parsed_at = parse_state.stat().st_mtime_ns
    current = "select 'reporting.rpt_current_occupancy'::regclass::oid"
    with psycopg.connect(built["url"]) as conn:
        (view_before,) = conn.execute(current).fetchone()
    result = build(built)
    # the new date reached the SQL without dbt parsing a file again (run_date() in iso_date_var.sql)
    assert parse_state.stat().st_mtime_ns == parsed_at
    tonight = NEXT_DAY["run_date"]
    with psycopg.connect(built["url"]) as conn:
        (last_day,) = conn.execute("select max(date) from reporting.rpt_kennel_occupancy_daily").fetchone()
        assert last_day == REFERENCE_DATE + dt.timedelta(days=1 + 90)
        # the current occupancy was refreshed in place (CONCURRENTLY), not replaced, and shows tonight's stays
        assert conn.execute(current).fetchone() == (view_before,)
        shown, expected = conn.execute(
            "select (select sum(occupied_count) from reporting.rpt_current_occupancy), "
            "(select count(*) from marts.fct_reservation_history as stays "
            " join marts.dim_resources as resources using (tenant_id, resource_id) "
            " where stays.is_occupying and stays.start_date <= %(d)s and stays.end_date > %(d)s "
            " and not resources.is_deleted)",
            {"d": tonight},
        ).fetchone()
        assert shown == expected > 0
    assert models(result) == RUN_DATE_MODELS
    tests = {node.name for node in result.nodes if node.resource_type == "test"}
    assert "primary_key_rpt_kennel_occupancy_daily_tenant_id__suite_type__date" in tests
    # the calendar view reads the date when queried: not rebuilt, but its tiers are tested again
    assert any(name.startswith("accepted_values_rpt_reservation_calendar_tier") for name in tests)
    assert not any("dim_customers" in name or "fct_reservation_history" in name for name in tests)
    assert all(node.status in {"success", "pass"} for node in result.nodes)


def test_a_simulated_day_built_changed_only_equals_a_build_of_every_node(built):
    url = built["url"]
    simulate(built["ops"], days=1)
    load_all(built["ops"], url)
    changed = build(built)
    assert {"fct_reservation_history", "fct_activities", "fct_payments", "rpt_finance_daily"} <= models(changed)
    # the staging views over the changed raw tables stay as they are; teams did not change
    assert not any(name.startswith("stg_app__") for name in models(changed))
    assert {"model.kennelworks.stg_app__reservations", "model.kennelworks.dim_teams"} <= changed.up_to_date
    after_changed = contents(url)

    every = build(built, changed_only=False)
    assert len(every.nodes) > len(changed.nodes)
    assert contents(url) == after_changed


def test_a_dropped_table_is_built_again(built):
    with psycopg.connect(built["url"]) as conn:
        conn.execute("drop table reporting.rpt_customers_with_pets")
    result = build(built)
    assert models(result) == {"rpt_customers_with_pets"}
    with psycopg.connect(built["url"]) as conn:
        assert conn.execute("select count(*) from reporting.rpt_customers_with_pets").fetchone()[0] > 0


def test_a_build_of_the_models_alone_leaves_their_tests_to_the_next_build(built):
    url = built["url"]
    simulate(built["ops"], days=1)
    load_all(built["ops"], url)
    models_alone = dbt_build(url, vars=NEXT_DAY, target_path=built["target"], changed_only=True, data_tests=False)
    assert {"fct_reservation_history", "fct_payments"} <= models(models_alone)
    assert {node.resource_type for node in models_alone.nodes} == {"model"}
    # the tests of what changed were never passed on this data: the next build runs them, and only them
    tests = build(built)
    assert models(tests) == set()
    assert "primary_key_fct_reservation_history_reservation_id" in {node.name for node in tests.nodes}
    assert all(node.status == "pass" for node in tests.nodes)
    assert build(built).nodes == []


def test_a_failed_check_runs_again_until_it_passes(built):
    url = built["url"]
    relationship = "relationships_dim_pets_customer_id__customer_id__ref_dim_customers_"
    with psycopg.connect(url) as conn:
        (tenant_id,) = conn.execute("select tenant_id from marts.dim_customers limit 1").fetchone()
        conn.execute(
            "insert into marts.dim_pets (pet_id, tenant_id, customer_id, pet_name, species, is_active, is_deleted) "
            "values (gen_random_uuid(), %s, gen_random_uuid(), 'Stray', 'dog', true, false)",
            (tenant_id,),
        )
    with pytest.raises(DbtError, match=relationship):
        build(built, changed_only=False)
    with psycopg.connect(url) as conn:
        conn.execute("delete from marts.dim_pets where pet_name = 'Stray'")
    # nothing changed since, but the check failed last time: it runs, and passes
    result = build(built)
    assert {node.name: node.status for node in result.nodes}.get(relationship) == "pass"
    assert build(built).nodes == []


def test_changed_code_builds_the_model_and_what_reads_it(built):
    # What a deploy that edited dim_resources looks like to the next build: another fingerprint.
    with psycopg.connect(built["url"]) as conn:
        conn.execute(
            "update meta.dbt_node_builds set fingerprint = 'an older version' "
            "where unique_id = 'model.kennelworks.dim_resources'"
        )
    result = build(built)
    # the occupancy reports read it; the calendar, a view over it, sees it changed in place
    assert models(result) == {"dim_resources", "rpt_kennel_occupancy_daily", "rpt_current_occupancy"}
    assert "primary_key_dim_resources_resource_id" in {node.name for node in result.nodes}


def test_a_dagster_run_builds_what_changed_and_records_the_rest_as_current(built, monkeypatch):
    """Both dbt steps through Dagster: the nodes dbt builds and those it leaves out each get a
    materialization, in dependency order (Dagster refuses a step's outputs in any other), and
    the dbt tests the catalog proves a passed check evaluation."""
    simulate(built["ops"], days=1)
    load_all(built["ops"], built["url"])
    result = run_the_dbt_steps(built, monkeypatch)

    assert result.success
    metadata = {event.asset_key: event.materialization.metadata for event in result.get_asset_materialization_events()}
    assert set(metadata) == set(DBT_ASSETS)
    left_out = {key.path[-1] for key, values in metadata.items() if "kennelworks/up_to_date" in values}
    assert {"dim_teams", "dim_customers", "stg_app__reservations", "rpt_customers_with_pets"} <= left_out
    assert not {"fct_reservation_history", "fct_activities", "rpt_kennel_occupancy_daily"} & left_out
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    assert all(check.passed for check in checks.values())
    assert "kennelworks/proven" in checks["not_null_fct_activities_tenant_id"].metadata
    assert "kennelworks/proven" not in checks["relationships_fct_activities_team_id__team_id__ref_dim_teams_"].metadata
    # the first step handed its parse state on (keep_parse_state): the second parsed no file again
    (reporting_log,) = DBT_TARGET_PATH.glob(f"reporting_dbt_models-{result.run_id[:7]}-*/dbt.log")
    assert "Unable to do partial parsing" not in reporting_log.read_text()


def run_the_dbt_steps(built, monkeypatch) -> dg.ExecuteInProcessResult:
    """Both Dagster dbt steps, changed only, for NEXT_DAY, on the module's warehouse."""
    for name, url in (("OPS_DATABASE_URL", built["ops"]), ("WAREHOUSE_DATABASE_URL", built["url"])):
        monkeypatch.setenv(name, url)
    monkeypatch.setenv("DAGSTER_DATABASE_URL", built["ops"])
    get_settings.cache_clear()
    try:
        from pipelines.definitions import defs

        selection = dg.AssetSelection.assets(*DBT_ASSETS).without_checks() | dg.AssetSelection.checks(*DBT_CHECKS)
        job = dg.define_asset_job("dbt_only", selection=selection)
        resolved = dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def("dbt_only")
        config = {"config": {"run_date": NEXT_DAY["run_date"]}}
        run_config = {"ops": {"warehouse_dbt_models": config, "reporting_dbt_models": config}}
        return resolved.execute_in_process(run_config=run_config, raise_on_error=False)
    finally:
        get_settings.cache_clear()


def test_a_dagster_run_with_nothing_new_starts_no_dbt_and_reports_every_asset_current(built, monkeypatch):
    """An idle hour: every node is up to date, so neither dbt step starts dbt (about 3.5 s each),
    and still every model gets its materialization and every test its passed check."""
    build(built)  # the night's build: nothing is new after it
    result = run_the_dbt_steps(built, monkeypatch)
    assert result.success
    metadata = {event.asset_key: event.materialization.metadata for event in result.get_asset_materialization_events()}
    assert set(metadata) == set(DBT_ASSETS)
    assert all("kennelworks/up_to_date" in values for values in metadata.values())
    checks = result.get_asset_check_evaluations()
    assert {check.asset_check_key for check in checks} == set(DBT_CHECKS)
    assert all(check.passed for check in checks)
    assert not list(DBT_TARGET_PATH.glob(f"*_dbt_models-{result.run_id[:7]}-*"))  # no dbt invocation


def test_the_command_line_s_changed_only_build_builds_nothing_when_nothing_is_new(built, monkeypatch, capsys):
    """`warehouse dbt build --changed-only`: no month given, no --vars passed (an empty list
    passed as one used to turn the pruning off, and every node was built)."""
    build(built)  # tonight's build, so nothing is new
    for name, url in (("OPS_DATABASE_URL", built["ops"]), ("WAREHOUSE_DATABASE_URL", built["url"])):
        monkeypatch.setenv(name, url)
    monkeypatch.setenv("DAGSTER_DATABASE_URL", built["ops"])
    get_settings.cache_clear()
    try:
        assert main(["dbt", "build", "--changed-only", "--run-date", NEXT_DAY["run_date"]]) == 0
    finally:
        get_settings.cache_clear()
    printed = capsys.readouterr().out
    assert re.search(r"dbt build: 0 nodes in [0-9.]+ s, \d+ up to date left out", printed), printed


def test_the_columns_not_null_tests_name_are_not_null_in_the_patched_tables(built):
    """patched_by_key declares them NOT NULL: PostgreSQL refuses a null where a test says never,
    and the test reads the catalog instead of scanning the table."""
    with psycopg.connect(built["url"]) as conn:
        declared = conn.execute(
            "select attrelid::regclass::text, attname::text from pg_attribute "
            "where attrelid = any(%s::regclass[]) and attnotnull and attnum > 0 order by 1, 2",
            (["marts.fct_activities", "intermediate.int_financial_transactions"],),
        ).fetchall()
        assert ("marts.fct_activities", "tenant_id") in declared  # not_null
        assert ("marts.fct_activities", "activity_id") in declared  # primary_key
        assert ("intermediate.int_financial_transactions", "occurred_on") in declared
        with pytest.raises(psycopg.errors.NotNullViolation, match="tenant_id"):
            conn.execute(
                "update marts.fct_activities set tenant_id = null "
                "where activity_id = (select activity_id from marts.fct_activities limit 1)"
            )
    (compiled,) = built["target"].glob("compiled/**/not_null_fct_activities_tenant_id.sql")
    assert "nothing to scan" in compiled.read_text()


def test_a_test_the_catalog_proves_is_left_out_while_the_constraint_holds(built):
    """fct_activities is patched in place and declares tenant_id NOT NULL: a night that patches
    it leaves not_null_fct_activities_tenant_id out, as PostgreSQL rejects a null there; with
    the constraint gone (by hand), the test runs again, and the patch declares it again."""
    url = built["url"]
    build(built)
    touch_raw(url, "activities")
    proven = build(built)
    assert "fct_activities" in models(proven)
    assert any(".not_null_fct_activities_tenant_id." in uid for uid in proven.proven)
    assert status_of(proven, "not_null_fct_activities_tenant_id") is None
    assert status_of(proven, "source_primary_key_app_activities_id") is None  # raw's primary key
    assert status_of(proven, "relationships_fct_activities_team_id") == "pass"  # no constraint proves it
    with psycopg.connect(url) as conn:
        conn.execute("alter table marts.fct_activities alter column tenant_id drop not null")
    touch_raw(url, "activities")
    unproven = build(built)
    assert status_of(unproven, "not_null_fct_activities_tenant_id") == "pass"
    assert not any(".not_null_fct_activities_tenant_id." in uid for uid in unproven.proven)
    with psycopg.connect(url) as conn:
        (declared,) = conn.execute(
            "select attnotnull from pg_attribute where attrelid = 'marts.fct_activities'::regclass "
            "and attname = 'tenant_id'"
        ).fetchone()
    assert declared


OCCUPIED = "non_negative_rpt_kennel_occupancy_daily_occupied"


def test_the_counts_non_negative_tests_name_are_checked_by_postgres_and_their_tests_left_out(built):
    """The sync strategy declares CHECK (column >= 0) on the columns non_negative tests name
    (from the table's first incremental build): PostgreSQL refuses a negative count, naming
    the constraint, and a night that changes the occupancy leaves the test out. With the
    constraint gone (by hand), the test scans again, and the build declares it again."""
    url = built["url"]
    build(built)
    touch_raw(url, "reservations")
    proven = build(built)
    assert "rpt_kennel_occupancy_daily" in models(proven)
    assert any(f".{OCCUPIED}." in uid for uid in proven.proven)
    assert status_of(proven, OCCUPIED) is None
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.CheckViolation, match="occupied_non_negative"):
        conn.execute(
            "update reporting.rpt_kennel_occupancy_daily set occupied = -1 "
            "where ctid = (select ctid from reporting.rpt_kennel_occupancy_daily limit 1)"
        )
    with psycopg.connect(url) as conn:
        conn.execute("alter table reporting.rpt_kennel_occupancy_daily drop constraint occupied_non_negative")
    touch_raw(url, "reservations")
    unproven = build(built)
    assert status_of(unproven, OCCUPIED) == "pass"
    with psycopg.connect(url) as conn:
        (declared,) = conn.execute(
            "select count(*) from pg_constraint where conrelid = 'reporting.rpt_kennel_occupancy_daily'::regclass "
            "and conname = 'occupied_non_negative' and convalidated"
        ).fetchone()
    assert declared == 1


INVOICE_STATUS = "accepted_values_fct_invoices_status"


def test_the_values_accepted_values_tests_name_are_checked_by_postgres_and_their_tests_left_out(built):
    """patched_by_key (and the sync strategy) declare CHECK (column = any (values)) on the column
    of an accepted_values test: PostgreSQL refuses another status, naming the constraint, and a
    night that changes the invoices leaves the test out. With the constraint replaced by one with
    other values (by hand), the test scans again and the build puts the test's values back."""
    url = built["url"]
    build(built)
    touch_raw(url, "invoices")
    proven = build(built)
    assert "fct_invoices" in models(proven)
    assert any(f".{INVOICE_STATUS}_" in uid for uid in proven.proven)
    assert status_of(proven, INVOICE_STATUS) is None
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.CheckViolation, match="status_accepted_values"):
        conn.execute(
            "update marts.fct_invoices set status = 'refunded' "
            "where invoice_id = (select invoice_id from marts.fct_invoices limit 1)"
        )
    with psycopg.connect(url) as conn:
        conn.execute("alter table marts.fct_invoices drop constraint status_accepted_values")
        conn.execute(
            "alter table marts.fct_invoices add constraint status_accepted_values "
            "check (status = any (array['draft', 'open', 'paid', 'void', 'refunded']::text[]))"
        )
    touch_raw(url, "invoices")
    unproven = build(built)
    assert status_of(unproven, INVOICE_STATUS) == "pass"
    with psycopg.connect(url) as conn:
        declared = conn.execute(
            "select conrelid::regclass::text, pg_get_constraintdef(oid) from pg_constraint "
            "where conname in ('status_accepted_values', 'bucket_accepted_values') and convalidated order by 1"
        ).fetchall()
    assert declared == [
        ("marts.fct_invoices", "CHECK ((status = ANY (ARRAY['draft'::text, 'open'::text, 'paid'::text, "
         "'void'::text])))"),
        ("reporting.rpt_ar_aging", "CHECK ((bucket = ANY (ARRAY['current'::text, '1-30'::text, '31-60'::text, "
         "'61-90'::text, '90+'::text])))"),
    ]  # fmt: skip


# Tests that passed before test only the rows changed since (dbt_project/macros/tests/test_scope.sql).
HISTORY_STATUS = "accepted_values_fct_reservation_history_status"
ACTIVITY_TEAM = "relationships_fct_activities_team_id__team_id__ref_dim_teams_"


def touch_raw(url: str, table: str, where: str = "true") -> None:
    """One raw row stamped as just extracted (a change a load would bring): its models rebuild."""
    with psycopg.connect(url) as conn:
        conn.execute(
            f"update raw.{table} set _extracted_at = now() "
            f"where id = (select id from raw.{table} where {where} limit 1)"
        )


def spoil_a_status(conn) -> tuple:
    """A checked-out stay of the history given a status no test accepts, by hand: (key, start_date)."""
    reservation_id, start_date = conn.execute(
        "select reservation_id, start_date from marts.fct_reservation_history where status = 'checked_out' limit 1"
    ).fetchone()
    conn.execute(
        "update marts.fct_reservation_history set status = 'lost' where reservation_id = %s", (reservation_id,)
    )
    return reservation_id, start_date


def status_of(result, test_name: str) -> str | None:
    """The status of the test whose name starts with `test_name` (dbt names carry the arguments)."""
    return next((node.status for node in result.nodes if node.name.startswith(test_name)), None)


def compiled(built, test_name: str) -> str:
    """The SQL the last build ran for a test (dbt's run_results.json)."""
    import json

    results = json.loads((built["target"] / "run_results.json").read_text())["results"]
    return next(result["compiled_code"] for result in results if f".{test_name}" in result["unique_id"])


def test_a_bad_row_a_build_logged_fails_the_test_that_reads_only_changed_rows(built):
    """What a faulty patch of the history leaves (a bad row written, its key in the log): a
    changed-only night reads it, and fails; the test then reads every row until it passes."""
    url = built["url"]
    build(built)  # every test passed once with this code: the next night scopes them
    with psycopg.connect(url) as conn:
        reservation_id, start_date = spoil_a_status(conn)
        conn.execute(
            "insert into marts.fct_reservation_history__changes (logged_at, reservation_id, start_date) "
            "values (now(), %s, %s)",
            (reservation_id, start_date),
        )
    touch_raw(url, "reservations", f"id <> '{reservation_id}'")  # another reservation changes
    with pytest.raises(DbtError, match=HISTORY_STATUS):
        build(built)
    assert "fct_reservation_history__changes" in compiled(built, HISTORY_STATUS)  # it read the changed rows only
    with psycopg.connect(url) as conn:
        conn.execute(
            "update marts.fct_reservation_history set status = 'checked_out' where reservation_id = %s",
            (reservation_id,),
        )
    result = build(built)  # a test that failed reads every row again, and passes
    assert status_of(result, HISTORY_STATUS) == "pass"
    assert "fct_reservation_history__changes" not in compiled(built, HISTORY_STATUS)


def delete_a_team_of_live_activities(url: str) -> tuple:
    """What a patch of dim_teams that deleted a team leaves (the row gone, its key in the log),
    for a team live activities point at; returns its id and its row, to put back."""
    with psycopg.connect(url) as conn:
        (team_id,) = conn.execute(
            "select team_id from marts.fct_activities where team_id is not null and not is_deleted limit 1"
        ).fetchone()
        team = conn.execute("select * from marts.dim_teams where team_id = %s", (team_id,)).fetchone()
        conn.execute("delete from marts.dim_teams where team_id = %s", (team_id,))
        conn.execute("insert into marts.dim_teams__changes (logged_at, team_id) values (now(), %s)", (team_id,))
    touch_raw(url, "activities", f"team_id is distinct from '{team_id}'")  # another activity changes
    return team_id, team


def put_back_team(url: str, team: tuple) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(f"insert into marts.dim_teams values ({', '.join(['%s'] * len(team))})", team)


def test_a_deleted_parent_row_fails_the_relationships_test_though_its_children_did_not_change(built):
    """The activities pointing at a team a patch deleted are tested, though none of them changed."""
    build(built)
    _, team = delete_a_team_of_live_activities(built["url"])
    with pytest.raises(DbtError, match=ACTIVITY_TEAM):
        build(built)
    assert "dim_teams__changes" in compiled(built, ACTIVITY_TEAM)
    put_back_team(built["url"], team)
    assert status_of(build(built), ACTIVITY_TEAM) == "pass"


def test_a_deleted_activity_stays_in_its_mart_whatever_became_of_its_team(built):
    """A deleted row stays in its mart, flagged, whatever became of its parents: the team of
    deleted activities deleted in turn fails no relationships test (a live one's does, above)."""
    url = built["url"]
    build(built)
    team_id, team = delete_a_team_of_live_activities(url)
    with psycopg.connect(url) as conn:
        made_deleted = conn.execute(
            "update marts.fct_activities set is_deleted = true where team_id = %s and not is_deleted "
            "returning activity_id",
            (team_id,),
        ).fetchall()
    try:
        assert status_of(build(built), ACTIVITY_TEAM) == "pass"
    finally:
        put_back_team(url, team)
        with psycopg.connect(url) as conn:
            conn.execute(
                "update marts.fct_activities set is_deleted = false where activity_id = any(%s)",
                ([activity_id for (activity_id,) in made_deleted],),
            )
    build(built, changed_only=False)


def test_rows_changed_by_hand_are_outside_a_changed_only_night_and_inside_every_node_builds(built):
    """The scope is what makes the night cheap: an unlogged bad row in a month nobody touched
    is not read by the changed-only night's test, and is by a build of every node."""
    url = built["url"]
    build(built)
    with psycopg.connect(url) as conn:
        reservation_id, _ = spoil_a_status(conn)
    touch_raw(url, "reservations", f"id <> '{reservation_id}'")
    changed = build(built)
    assert status_of(changed, HISTORY_STATUS) == "pass"
    with pytest.raises(DbtError, match=HISTORY_STATUS):
        build(built, changed_only=False)
    with psycopg.connect(url) as conn:
        conn.execute(
            "update marts.fct_reservation_history set status = 'checked_out' where reservation_id = %s",
            (reservation_id,),
        )
    build(built, changed_only=False)


STAGED_STATUS = "accepted_values_stg_app__invoices_status"


def test_a_staging_test_reads_the_raw_rows_changed_since_its_pass_and_fails_on_a_bad_one(built):
    """raw keeps no change log but stamps every row a load writes: a night tests a staging
    view's rows stamped after the raw version its last pass saw. A bad row stamped long ago
    (by hand) is not read; the same row brought by a load is, and fails the night."""
    url = built["url"]
    build(built)
    with psycopg.connect(url) as conn:
        invoice_id, status = conn.execute("select id, status from raw.invoices order by id limit 1").fetchone()
        conn.execute("update raw.invoices set status = 'lost' where id = %s", (invoice_id,))
    touch_raw(url, "invoices", f"id <> '{invoice_id}'")  # another invoice comes in
    assert status_of(build(built), STAGED_STATUS) == "pass"
    assert "greatest(extracted_at, deleted_in_source_at) >" in compiled(built, STAGED_STATUS)
    with psycopg.connect(url) as conn:
        conn.execute("update raw.invoices set _extracted_at = now() where id = %s", (invoice_id,))
    with pytest.raises(DbtError, match=STAGED_STATUS):
        build(built)
    with psycopg.connect(url) as conn:
        conn.execute("update raw.invoices set status = %s, _extracted_at = now() where id = %s", (status, invoice_id))
    assert status_of(build(built), STAGED_STATUS) == "pass"


def test_a_patched_table_without_a_configured_index_gets_it_on_its_next_build(built):
    """As when a model becomes patched_by_key, or its config gains an index: the table is
    refilled or patched in place, never built aside, and still ends with every index."""
    url = built["url"]

    def indexed_columns(conn) -> set[str]:
        rows = conn.execute(
            "select indexdef from pg_indexes where schemaname = 'intermediate' and tablename = 'int_payments_checked'"
        ).fetchall()
        return {definition.rsplit("(", 1)[1].rstrip(")") for (definition,) in rows}

    with psycopg.connect(url) as conn:
        assert indexed_columns(conn) == {"payment_id", "changed_at", "quarantine_reason"}
        (name,) = conn.execute(
            "select indexname from pg_indexes "
            "where tablename = 'int_payments_checked' and indexdef like '%(quarantine_reason)'"
        ).fetchone()
        conn.execute(f'drop index intermediate."{name}"')
    touch_raw(url, "payments")
    assert "int_payments_checked" in models(build(built))
    with psycopg.connect(url) as conn:
        assert indexed_columns(conn) == {"payment_id", "changed_at", "quarantine_reason"}


def test_an_appended_table_without_its_configured_indexes_gets_them_on_its_next_build(built):
    """The insert_new and sync strategies create the configured indexes their table lacks, as
    patched_by_key does: the archive's key index (ON CONFLICT needs it) and its date index."""
    url = built["url"]
    of_archive = "from pg_index where indrelid = 'archive.financial_transactions'::regclass"
    indexes = f"select array_agg(pg_get_indexdef(indexrelid) order by 1) {of_archive}"
    with psycopg.connect(url) as conn:
        (before,) = conn.execute(indexes).fetchone()
        assert len(before) == 2
        for (name,) in conn.execute(f"select indexrelid::regclass::text {of_archive}").fetchall():
            conn.execute(f"drop index {name}")
    build(built, changed_only=False)
    with psycopg.connect(url) as conn:
        (after,) = conn.execute(indexes).fetchone()
    # the same definitions (the names may differ)
    assert sorted(d.split(" USING ", 1)[1] for d in after) == sorted(d.split(" USING ", 1)[1] for d in before)
