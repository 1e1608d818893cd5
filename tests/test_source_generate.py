"""The source generator against a real PostgreSQL: determinism, realism, and an anomaly
manifest that is exact (every recorded anomaly is in the data, no unrecorded one is)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date

import psycopg
import pytest

from pipelines.source import generate as generate_module
from pipelines.source.anomalies import AnomalyRates
from pipelines.source.create import create_source_schema
from pipelines.source.generate import GenerateError, generate
from pipelines.source.schema import metadata, primary_key
from pipelines.source.verify import find_anomalies, manifest_mismatches

REFERENCE = date(2026, 3, 15)
SEED = 7


@pytest.fixture(scope="module")
def generated(make_database, tmp_path_factory):
    """Scale 0.01 with default anomaly rates, generated once for the module."""
    url = make_database("gen")
    manifest_path = tmp_path_factory.mktemp("gen") / "manifest.json"
    result = generate(url, scale=0.01, seed=SEED, reference_date=REFERENCE, manifest_path=manifest_path)
    return url, result, json.loads(manifest_path.read_text())


def _checksums(url: str) -> dict[str, str]:
    sums = {}
    with psycopg.connect(url) as conn:
        for table in metadata.sorted_tables:
            order = ", ".join(primary_key(table))
            sums[table.name] = conn.execute(
                f"select md5(coalesce(string_agg(t::text, '|' order by {order}), '')) from app.{table.name} t"
            ).fetchone()[0]
    return sums


def test_schema_creation_is_idempotent(make_database):
    url = make_database("schema")
    create_source_schema(url)
    create_source_schema(url)
    with psycopg.connect(url) as conn:
        tables = conn.execute("select count(*) from information_schema.tables where table_schema = 'app'").fetchone()
        audited = conn.execute(
            "select count(distinct event_object_table) from information_schema.triggers "
            "where trigger_schema = 'app' and trigger_name = 'write_audit_log'"
        ).fetchone()
    assert tables[0] == 18
    assert audited[0] == 17  # every table but audit_log itself


def test_foreign_keys_exist_exactly_inside_contexts(make_database):
    url = make_database("fks")
    create_source_schema(url)
    with psycopg.connect(url) as conn:
        fks = set(
            conn.execute("""
            select c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
            from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
            where c.contype = 'f' and c.connamespace = 'app'::regnamespace""").fetchall()
        )
    assert fks == {
        ("app.pets", "customer_id", "app.customers"),
        ("app.reservations", "resource_id", "app.resources"),
        ("app.reservations", "service_id", "app.services"),
        ("app.invoice_lines", "invoice_id", "app.invoices"),
        ("app.payments", "invoice_id", "app.invoices"),
        ("app.refunds", "payment_id", "app.payments"),
        ("app.team_members", "team_id", "app.teams"),
        ("app.activities", "team_id", "app.teams"),
        ("app.team_progress", "team_id", "app.teams"),
        ("app.customer_achievements", "achievement_id", "app.achievements"),
    }


def test_row_counts_at_scale_001_are_in_range(generated):
    _, result, _ = generated
    expected = {  # scale 1 figures / 100, with slack for the random draws
        "tenants": (5, 5),
        "customers": (950, 1_150),
        "pets": (1_350, 1_800),
        "resources": (50, 120),
        "reservations": (10_000, 10_000),
        "invoices": (7_000, 9_500),
        "invoice_lines": (14_000, 21_000),
        "payments": (7_000, 11_000),
        "refunds": (150, 450),
        "teams": (45, 55),
        "team_members": (500, 620),
        "activities": (30_000, 30_000),
        "customer_stats": (300, 900),
        "team_progress": (35, 50),
    }
    for table, (low, high) in expected.items():
        assert low <= result.rows[table] <= high, (table, result.rows[table])


def test_manifest_is_exact(generated):
    """Each recorded anomaly is in the data, and the data holds no anomaly not recorded."""
    url, result, manifest = generated
    with psycopg.connect(url) as conn:
        assert manifest_mismatches(conn, manifest["anomalies"]) == []
        assert set(find_anomalies(conn)) == set(AnomalyRates.kinds())  # every kind injected at default rates
        recorded = conn.execute("select anomaly, count(*) from generator.anomalies group by anomaly").fetchall()
    assert dict(recorded) == manifest["counts"] == result.anomalies


def test_manifest_details_describe_the_rows(generated):
    url, _, manifest = generated
    by_kind = defaultdict(list)
    for entry in manifest["anomalies"]:
        by_kind[entry["anomaly"]].append(entry)
    with psycopg.connect(url) as conn:
        for entry in by_kind["drifted_customer_stats"]:
            stored = conn.execute(
                "select total_distance_m from app.customer_stats where customer_id = %s", (entry["key"],)
            ).fetchone()[0]
            details = entry["details"]
            assert stored == details["stored_distance_m"] == details["recomputed_distance_m"] + details["drift_m"]
        long_notes = conn.execute("select count(*) from app.reservations where length(notes) >= 100000").fetchone()[0]
        tenants = conn.execute(
            "select count(*) from app.reservations r join app.pets p on p.id = r.pet_id "
            "where r.id = any(%s::uuid[]) and p.tenant_id <> r.tenant_id",
            ([e["key"] for e in by_kind["cross_tenant_reservation_pet"]],),
        ).fetchone()[0]
    assert long_notes == 1
    assert tenants == len(by_kind["cross_tenant_reservation_pet"]) > 0


def test_no_anomaly_at_rate_zero(make_database, tmp_path):
    url = make_database("clean")
    result = generate(
        url,
        scale=0.01,
        seed=SEED,
        reference_date=REFERENCE,
        manifest_path=tmp_path / "m.json",
        anomaly_rates=AnomalyRates.uniform(0),
    )
    with psycopg.connect(url) as conn:
        assert find_anomalies(conn) == {}
        assert conn.execute("select count(*) from generator.anomalies").fetchone()[0] == 0
    assert result.anomalies == {}
    assert json.loads((tmp_path / "m.json").read_text())["anomalies"] == []


def test_same_seed_same_rows_other_seed_other_rows(generated, make_database, tmp_path):
    """Regenerating replaces the data with identical rows; another seed gives other rows."""
    url, _, _ = generated
    before = _checksums(url)
    generate(url, scale=0.01, seed=SEED, reference_date=REFERENCE, manifest_path=tmp_path / "a.json")
    other = make_database("other")
    generate(other, scale=0.01, seed=SEED + 1, reference_date=REFERENCE, manifest_path=tmp_path / "b.json")
    after, elsewhere = _checksums(url), _checksums(other)
    assert after == before
    assert all(after[name] != elsewhere[name] for name in set(after) - {"audit_log"})


def test_a_failed_load_leaves_the_previous_data(generated, tmp_path, monkeypatch):
    url, _, _ = generated
    before = _checksums(url)
    written = Counter()

    def failing_copy(columns, kinds):
        written["chunks"] += 1
        if written["chunks"] > 5:  # part-way through the load
            raise RuntimeError("disk on fire")
        return real_copy(columns, kinds)

    real_copy = generate_module.copy_binary
    monkeypatch.setattr(generate_module, "copy_binary", failing_copy)
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate(url, scale=0.01, seed=SEED + 1, reference_date=REFERENCE, manifest_path=tmp_path / "m.json")
    assert written["chunks"] > 5
    assert _checksums(url) == before
    with psycopg.connect(url) as conn:
        assert conn.execute("select seed from generator.runs").fetchall() == [(SEED,)]


def test_a_build_failing_while_early_tables_load_leaves_the_previous_data(generated, tmp_path, monkeypatch):
    """generate() loads the tables final early (invoices, ...) while it builds the rest: a
    builder failing after that still changes nothing."""
    url, _, _ = generated
    before = _checksums(url)
    loaded: list[tuple[str, ...]] = []

    def failing_step(world):
        raise RuntimeError("builder bug")

    steps = generate_module.BUILD_STEPS
    monkeypatch.setattr(generate_module, "BUILD_STEPS", (*steps[:-1], failing_step))
    real_copy = generate_module._Load.copy

    def copy(load, world, names):
        loaded.append(names)
        real_copy(load, world, names)

    monkeypatch.setattr(generate_module._Load, "copy", copy)
    with pytest.raises(RuntimeError, match="builder bug"):
        generate(url, scale=0.01, seed=SEED + 1, reference_date=REFERENCE, manifest_path=tmp_path / "m.json")
    assert loaded and "invoices" in loaded[0]
    assert _checksums(url) == before
    with psycopg.connect(url) as conn:
        assert conn.execute("select seed from generator.runs").fetchall() == [(SEED,)]


def test_tables_loaded_early_cannot_change_later():
    """A later step changing a table already handed to the load fails loudly instead of
    leaving the database without the change."""
    world, _ = generate_module.build_world(scale=0.01, seed=SEED, reference_date=REFERENCE)
    for name in generate_module.FINAL_AFTER["build_invoices"]:
        column = world.tables[name]["created_at"]
        with pytest.raises(ValueError, match="read-only"):
            column[0] = column[1]
        with pytest.raises(TypeError):
            world.tables[name]["id"] = None


def test_bad_scale_is_refused_before_touching_anything(make_database, tmp_path):
    with pytest.raises(GenerateError, match="scale"):
        generate(make_database("scale"), scale=0, seed=1, reference_date=REFERENCE, manifest_path=tmp_path / "m.json")


def test_data_is_realistic(generated):
    """Statuses follow dates, invoices add up, stays mostly fit their suites, instants
    lie before the reference date and some payments land just after local midnight."""
    url, _, _ = generated
    with psycopg.connect(url) as conn:

        def one(sql: str):
            return conn.execute(sql, {"ref": REFERENCE}).fetchone()[0]

        assert (
            one("""select count(*) from app.reservations where end_date > start_date and not (
            (end_date < %(ref)s and status in ('checked_out', 'cancelled', 'no_show'))
            or (start_date < %(ref)s and end_date >= %(ref)s and status = 'checked_in')
            or (start_date >= %(ref)s and status in ('pending', 'confirmed', 'cancelled')))""")
            == 0
        )
        assert one("select count(*) from app.reservations where start_date >= %(ref)s") > 0
        assert one("select min(start_date) from app.reservations") < date(2022, 4, 1)
        assert one("select max(end_date - start_date) from app.reservations") <= 21
        assert one("select count(*) from app.invoices where total_cents <> subtotal_cents + tax_cents") == 0
        assert (
            one("""select count(*) from app.invoices i join (select invoice_id, sum(amount_cents) as lines
                      from app.invoice_lines group by invoice_id) l on l.invoice_id = i.id
                      where l.lines <> i.subtotal_cents""")
            == 0
        )
        assert (
            one("""select count(*) from app.invoices i where status = 'paid' and total_cents <> (
                      select sum(amount_cents) from app.payments p
                      where p.invoice_id = i.id and p.status = 'succeeded')
                      and not exists (select 1 from generator.anomalies a
                                      join app.payments p on p.id::text = a.record_key
                                      where p.invoice_id = i.id)""")
            == 0
        )
        assert one("select count(*) from app.payments where status = 'failed'") > 0
        assert (
            one("""select count(*) from (select invoice_id from app.payments where status = 'succeeded'
                      group by invoice_id having count(*) > 1) x""")
            > 0
        )  # partial payments
        for table in ("reservations", "payments", "activities", "customers", "invoices"):
            assert (
                one(
                    f"select count(*) from app.{table} where created_at > updated_at"
                    " or updated_at >= (%(ref)s::date::timestamp at time zone 'UTC')"
                )
                == 0
            ), table
        after_midnight = one("""select count(*) from app.payments p join app.tenants t on t.id = p.tenant_id
                                where extract(hour from p.paid_at at time zone t.timezone) = 0""")
        assert after_midnight > 0
        # nights booked beyond a suite's capacity, as a share of all occupied nights
        overbooked = one("""
            with nights as (
                select r.resource_id, d::date as night
                from app.reservations r, generate_series(r.start_date, r.end_date - 1, interval '1 day') d
                where r.resource_id is not null and r.status not in ('cancelled', 'no_show')
                  and r.end_date > r.start_date),
            per as (select n.resource_id, n.night, count(*) as stays, max(s.capacity) as capacity
                    from nights n join app.resources s on s.id = n.resource_id group by 1, 2)
            select sum(greatest(stays - capacity, 0))::float / sum(stays) from per""")
        assert overbooked < 0.05
        zones = one("select count(distinct timezone) from app.tenants")
        assert zones == 5
