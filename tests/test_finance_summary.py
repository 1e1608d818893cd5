"""Finance summary end to end: source rows -> load_all -> real dbt build -> summary -> files.

Run date 2026-06-30, so ledger entries completed before 2025-06-30 are in the archive. Tenant
paws-inn is in New York, bark-bnb in Berlin. Every expected figure is computed here directly
from the SOURCE tables (DESIGN.md §4 definitions, written independently of the models and of
the summary's SQL) or written out by hand.
"""

from __future__ import annotations

import datetime as dt
import zipfile

import psycopg
import pytest
from dbt_finance_fixtures import insert, uid
from openpyxl import load_workbook

from pipelines.cli import main as warehouse_cli
from pipelines.lib import validation
from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all
from pipelines.lib.finance_summary import WarehouseNotReady, build_summary, parse_request, write_summary
from pipelines.settings import get_settings
from pipelines.source.create import create_source_schema

RUN_DATE = dt.date(2026, 6, 30)
PAWS, BARK = 1, 2
MODELS = None  # the whole project: the real chain, and no test left without its parents

# invoice n -> (tenant, status, issued_on, due_on, total_cents, deleted)
INVOICES = {
    1: (PAWS, "paid", "2024-11-05", "2024-12-05", 12_000, False),  # archived
    2: (PAWS, "paid", "2025-02-10", "2025-03-12", 8_000, False),  # archived; open on 2025-03-31
    3: (PAWS, "paid", "2026-01-15", "2026-02-14", 30_000, False),  # 20_000 still open on 2026-03-31
    4: (PAWS, "open", "2026-05-20", "2026-06-19", 5_000, False),  # 3_500 open on the run date
    5: (PAWS, "open", "2026-06-10", "2026-07-10", 2_500, False),  # current on the run date
    6: (PAWS, "void", "2026-03-01", None, 999, False),  # counts in no figure
    7: (PAWS, "paid", "2026-03-02", None, 4_444, True),  # deleted: counts in no figure
    8: (BARK, "paid", "2025-12-01", "2025-12-31", 9_900, False),
}

# payment n -> (invoice n, amount, method, status, paid_at)
PAYMENTS = {
    1: (1, 12_000, "card", "succeeded", "2024-11-20T15:00:00Z"),
    2: (2, 8_000, "cash", "succeeded", "2025-05-01T15:00:00Z"),
    3: (3, 10_000, "ach", "succeeded", "2026-01-31T23:30:00-05:00"),  # local January, UTC February
    4: (3, 20_000, "gift_card", "succeeded", "2026-04-10T15:00:00Z"),
    5: (4, 1_500, "card", "succeeded", "2026-06-05T15:00:00Z"),
    6: (4, 700, "card", "failed", "2026-06-06T15:00:00Z"),
    7: (7, 4_444, "card", "succeeded", "2026-03-03T15:00:00Z"),  # of the deleted invoice
    8: (8, 9_900, "card", "succeeded", "2025-12-02T00:30:00+01:00"),  # local 12-02, UTC 12-01
}

# refund n -> (payment n, amount, refunded_at)
REFUNDS = {1: (2, 1_000, "2025-05-10T15:00:00Z"), 2: (4, 2_000, "2026-04-20T15:00:00Z")}

# reservation n -> (resource n, status, start_date, end_date); resources 1 and 2 hold one pet each
RESERVATIONS = {
    1: (1, "checked_out", "2026-03-10", "2026-03-15"),  # 5 nights in March
    2: (2, "cancelled", "2026-03-01", "2026-03-20"),  # occupies nothing
    3: (2, "checked_out", "2026-03-30", "2026-04-02"),  # 2 nights in March, 1 in April
}


def seed_source(ops_url: str) -> None:
    create_source_schema(ops_url)
    tenant = {PAWS: uid(1, PAWS), BARK: uid(1, BARK)}
    with psycopg.connect(ops_url) as conn:
        insert(
            conn,
            "tenants",
            [
                {
                    "id": tenant[PAWS],
                    "slug": "paws-inn",
                    "name": "Paws Inn",
                    "timezone": "America/New_York",
                    "plan": "pro",
                },
                {
                    "id": tenant[BARK],
                    "slug": "bark-bnb",
                    "name": "Bark & <BnB>",
                    "timezone": "Europe/Berlin",
                    "plan": "pro",
                },
            ],
        )
        insert(
            conn,
            "customers",
            [{"id": uid(2, t), "tenant_id": tenant[t], "first_name": "Ada", "last_name": f"Tenant{t}"} for t in tenant],
        )
        insert(
            conn,
            "pets",
            [
                {
                    "id": uid(7, 1),
                    "tenant_id": tenant[PAWS],
                    "customer_id": uid(2, PAWS),
                    "name": "Rex",
                    "species": "dog",
                }
            ],
        )
        insert(
            conn,
            "resources",
            [
                {
                    "id": uid(8, n),
                    "tenant_id": tenant[PAWS],
                    "name": f"Kennel A{n}",
                    "suite_type": "standard",
                    "capacity": 1,
                }
                for n in (1, 2)
            ],
        )
        insert(
            conn,
            "services",
            [
                {
                    "id": uid(9, 1),
                    "tenant_id": tenant[PAWS],
                    "name": "Boarding",
                    "category": "boarding",
                    "price_cents": 5_000,
                }
            ],
        )
        insert(
            conn,
            "reservations",
            [
                {
                    "id": uid(10, n),
                    "tenant_id": tenant[PAWS],
                    "customer_id": uid(2, PAWS),
                    "pet_id": uid(7, 1),
                    "resource_id": uid(8, resource),
                    "service_id": uid(9, 1),
                    "requested_suite_type": "standard",
                    "status": status,
                    "start_date": start,
                    "end_date": end,
                    "total_cents": 5_000,
                }
                for n, (resource, status, start, end) in RESERVATIONS.items()
            ],
        )
        insert(
            conn,
            "invoices",
            [
                {
                    "id": uid(3, n),
                    "tenant_id": tenant[t],
                    "customer_id": uid(2, t),
                    "number": f"INV-{n}",
                    "status": status,
                    "issued_on": issued,
                    "due_on": due,
                    "subtotal_cents": total,
                    "tax_cents": 0,
                    "total_cents": total,
                    "currency": "USD" if t == PAWS else "EUR",
                    "deleted_at": "2026-04-01T00:00:00Z" if deleted else None,
                }
                for n, (t, status, issued, due, total, deleted) in INVOICES.items()
            ],
        )
        insert(
            conn,
            "payments",
            [
                {
                    "id": uid(5, n),
                    "tenant_id": tenant[INVOICES[invoice][0]],
                    "invoice_id": uid(3, invoice),
                    "amount_cents": amount,
                    "method": method,
                    "status": status,
                    "paid_at": paid_at,
                }
                for n, (invoice, amount, method, status, paid_at) in PAYMENTS.items()
            ],
        )
        insert(
            conn,
            "refunds",
            [
                {
                    "id": uid(6, n),
                    "tenant_id": tenant[INVOICES[PAYMENTS[payment][0]][0]],
                    "payment_id": uid(5, payment),
                    "amount_cents": amount,
                    "reason": "goodwill",
                    "refunded_at": at,
                }
                for n, (payment, amount, at) in REFUNDS.items()
            ],
        )


# DESIGN.md §4 straight from the source: invoiced = non-deleted open/paid invoices on issued_on;
# collected = succeeded payments, refunded = refunds, on the tenant-local date; payments and
# refunds of a deleted invoice count in nothing (they are quarantined).
SOURCE_ENTRIES = """
    with live_invoices as (
        select * from app.invoices where deleted_at is null
    ),
    payments as (
        select p.*, (p.paid_at at time zone t.timezone)::date as local_date
        from app.payments as p
        join live_invoices as i on i.id = p.invoice_id
        join app.tenants as t on t.id = p.tenant_id
    )
    select i.tenant_id, i.issued_on as day, 'invoiced' as measure, i.total_cents as cents, null as method
    from live_invoices as i where i.status in ('open', 'paid')
    union all
    select p.tenant_id, p.local_date, 'collected', p.amount_cents, p.method
    from payments as p where p.status = 'succeeded'
    union all
    select r.tenant_id, (r.refunded_at at time zone t.timezone)::date, 'refunded', r.amount_cents, null
    from app.refunds as r
    join payments as p on p.id = r.payment_id
    join app.tenants as t on t.id = r.tenant_id
"""

SOURCE_MONTHLY = f"""
    with entries as ({SOURCE_ENTRIES})
    select
        t.slug,
        date_trunc('month', e.day)::date,
        coalesce(sum(e.cents) filter (where e.measure = 'invoiced'), 0),
        coalesce(sum(e.cents) filter (where e.measure = 'collected'), 0),
        coalesce(sum(e.cents) filter (where e.measure = 'refunded'), 0)
    from entries as e join app.tenants as t on t.id = e.tenant_id
    where e.day >= %(first)s and e.day <= %(last)s
    group by 1, 2
"""

SOURCE_METHODS = f"""
    with entries as ({SOURCE_ENTRIES})
    select t.slug, e.method, count(*), sum(e.cents)
    from entries as e join app.tenants as t on t.id = e.tenant_id
    where e.measure = 'collected' and e.day >= %(first)s and e.day <= %(last)s
    group by 1, 2
"""

# Nights of stays that occupy a kennel (not cancelled/no_show, not deleted) and capacity of
# active resources, day by day, summed per month.
SOURCE_OCCUPANCY = """
    with days as (
        select t.id as tenant_id, t.slug, d::date as day
        from app.tenants as t, generate_series(%(first)s::date, %(last)s::date, interval '1 day') as d
    )
    select
        days.slug,
        date_trunc('month', days.day)::date,
        (select count(*) from app.reservations as r
            where r.tenant_id = days.tenant_id and r.deleted_at is null
                and r.status not in ('cancelled', 'no_show')
                and r.start_date <= days.day and days.day < r.end_date),
        (select coalesce(sum(capacity), 0) from app.resources as k
            where k.tenant_id = days.tenant_id and k.is_active and k.deleted_at is null)
    from days
"""


def fetch(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def warehouse(make_database, tmp_path_factory):
    """Seeded source, extracted, one dbt build at RUN_DATE; yields (ops_url, warehouse_url)."""
    ops_url, warehouse_url = make_database("fin_ops"), make_database("fin_wh")
    seed_source(ops_url)
    load_all(ops_url, warehouse_url)
    target = tmp_path_factory.mktemp("dbt_target")
    dbt_build(warehouse_url, select=MODELS, vars={"run_date": RUN_DATE.isoformat()}, target_path=target)
    return ops_url, warehouse_url


def summarize(warehouse_url: str, tenant: str | None, first: str, last: str):
    request = parse_request(tenant, tenant is None, first, last)
    return build_summary(warehouse_url, request, today=RUN_DATE)


@pytest.fixture(scope="module")
def paws(warehouse):
    """paws-inn, Nov 2024 to the run month: archived and live months."""
    return summarize(warehouse[1], "paws-inn", "2024-11", "2026-06")


def _revenue(summary) -> dict:
    frame = summary.section("revenue").frame
    return {
        (row.tenant_slug, row.month): (row.invoiced_cents, row.collected_cents, row.refunded_cents, row.net_cents)
        for row in frame.itertuples()
    }


def _expected_revenue(ops_url, slugs, first: dt.date, last: dt.date) -> dict:
    """Every month of the period for every slug (zeros where nothing happened), from the source."""
    expected = {}
    month = first
    while month <= last:
        for slug in slugs:
            expected[(slug, month)] = (0, 0, 0, 0)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    last_day = (last + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    for slug, month, invoiced, collected, refunded in fetch(
        ops_url, SOURCE_MONTHLY, {"first": first, "last": last_day}
    ):
        if slug in slugs:
            expected[(slug, month)] = (invoiced, collected, refunded, collected - refunded)
    return expected


def test_revenue_equals_source_sums_archived_months_included(warehouse, paws):
    ops_url, warehouse_url = warehouse
    assert _revenue(paws) == _expected_revenue(ops_url, {"paws-inn"}, dt.date(2024, 11, 1), dt.date(2026, 6, 1))
    # the early months really come from the archive, not from the live ledger
    archived = fetch(
        warehouse_url,
        "select distinct date_trunc('month', occurred_on)::date from archive.financial_transactions "
        "where tenant_id = %s",
        (uid(1, PAWS),),
    )
    assert {row[0] for row in archived} >= {dt.date(2024, 11, 1), dt.date(2025, 2, 1), dt.date(2025, 5, 1)}
    revenue = _revenue(paws)
    assert revenue[("paws-inn", dt.date(2024, 11, 1))] == (12_000, 12_000, 0, 12_000)
    assert revenue[("paws-inn", dt.date(2025, 5, 1))] == (0, 8_000, 1_000, 7_000)
    # 23:30 on 31 Jan in New York is February in UTC: collected in January
    assert revenue[("paws-inn", dt.date(2026, 1, 1))] == (30_000, 10_000, 0, 10_000)
    assert revenue[("paws-inn", dt.date(2026, 3, 1))] == (0, 0, 0, 0)  # void and deleted count in nothing


def test_all_tenants_holds_each_tenant_separately(warehouse):
    ops_url, warehouse_url = warehouse
    summary = summarize(warehouse_url, None, "2025-06", "2026-06")
    expected = _expected_revenue(ops_url, {"paws-inn", "bark-bnb"}, dt.date(2025, 6, 1), dt.date(2026, 6, 1))
    assert _revenue(summary) == expected
    assert expected[("bark-bnb", dt.date(2025, 12, 1))] == (9_900, 9_900, 0, 9_900)


def test_payment_mix_equals_source_and_adds_up_to_collected(warehouse, paws):
    ops_url, _ = warehouse
    section = paws.section("payment_methods")
    mix = {
        (row.tenant_slug, row.method): (row.payment_count, row.collected_cents) for row in section.frame.itertuples()
    }
    expected = {
        (slug, method): (count, cents)
        for slug, method, count, cents in fetch(
            ops_url, SOURCE_METHODS, {"first": dt.date(2024, 11, 1), "last": dt.date(2026, 6, 30)}
        )
        if slug == "paws-inn"
    }
    assert mix == expected
    assert mix[("paws-inn", "card")] == (2, 13_500)  # the failed card payment is not in it
    assert section.frame["collected_cents"].sum() == paws.section("revenue").frame["collected_cents"].sum()
    assert section.frame["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("last_month", "expected"),
    [
        # 2025-03-31: invoice 2 (due 03-12, paid in May) is 19 days past due
        ("2025-03", {"1-30": (8_000, 1)}),
        # 2026-03-31: 20_000 of invoice 3 (due 02-14, rest paid 04-10) is 45 days past due
        ("2026-03", {"31-60": (20_000, 1)}),
        # the run date: invoice 4 (3_500 left, due 06-19) and invoice 5 (due 07-10)
        ("2026-06", {"1-30": (3_500, 1), "current": (2_500, 1)}),
    ],
)
def test_ar_aging_at_period_end(warehouse, last_month, expected):
    summary = summarize(warehouse[1], "paws-inn", "2024-11", last_month)
    frame = summary.section("ar_aging").frame
    aging = {row.bucket: (row.open_cents, row.invoice_count) for row in frame.itertuples()}
    assert list(aging) == ["current", "1-30", "31-60", "61-90", "90+"]
    assert {bucket: value for bucket, value in aging.items() if value != (0, 0)} == expected
    assert set(frame["as_of"]) == {summary.aging_as_of}


def test_ar_aging_on_the_run_date_equals_rpt_ar_aging(warehouse):
    _, warehouse_url = warehouse
    summary = summarize(warehouse_url, None, "2026-01", "2026-06")
    frame = summary.section("ar_aging").frame
    ours = {(row.tenant_slug, row.bucket): (row.open_cents, row.invoice_count) for row in frame.itertuples()}
    theirs = fetch(
        warehouse_url,
        "select t.tenant_slug, a.bucket, a.open_cents, a.invoice_count from reporting.rpt_ar_aging as a "
        "join staging.stg_app__tenants as t on t.tenant_id = a.tenant_id",
    )
    assert ours == {(slug, bucket): (cents, count) for slug, bucket, cents, count in theirs}


def test_occupancy_rate_equals_source_nights_over_capacity(warehouse):
    ops_url, warehouse_url = warehouse
    summary = summarize(warehouse_url, "paws-inn", "2026-02", "2026-05")
    frame = summary.section("occupancy").frame
    ours = {row.month: (row.occupied_nights, row.capacity_nights, row.occupancy_rate) for row in frame.itertuples()}
    expected: dict = {}
    for slug, month, occupied, capacity in fetch(
        ops_url, SOURCE_OCCUPANCY, {"first": dt.date(2026, 2, 1), "last": dt.date(2026, 5, 31)}
    ):
        if slug == "paws-inn":
            nights, capacity_nights = expected.get(month, (0, 0))
            expected[month] = (nights + occupied, capacity_nights + capacity)
    assert {month: values[:2] for month, values in ours.items()} == expected
    assert ours[dt.date(2026, 3, 1)] == (7, 62, pytest.approx(7 / 62))
    assert ours[dt.date(2026, 4, 1)] == (1, 60, pytest.approx(1 / 60))


def test_xlsx_has_a_sheet_per_section_with_real_number_formats(paws, tmp_path):
    path = write_summary(paws, "xlsx", tmp_path / "paws.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["About", "Revenue", "AR aging", "Payment methods", "Occupancy"]
    for name in workbook.sheetnames[1:]:
        sheet = workbook[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet["A1"].value == "Tenant" and sheet["A1"].font.bold, name
        assert all(sheet.column_dimensions[letter].width >= 8 for letter in "ABCDE"), name
    revenue = workbook["Revenue"]
    assert [cell.value for cell in revenue[1]] == [
        "Tenant",
        "Tenant name",
        "Currency",
        "Month",
        "Invoiced",
        "Collected",
        "Refunded",
        "Net",
    ]
    november = revenue[2]  # first row: 2024-11
    assert november[2].value == "USD"
    assert november[3].value == dt.datetime(2024, 11, 1) and november[3].number_format == "yyyy-mm"
    assert november[4].value == 120.00 and november[4].number_format == "#,##0.00"
    occupancy = workbook["Occupancy"]
    march = next(row for row in occupancy.iter_rows(min_row=2) if row[2].value == dt.datetime(2026, 3, 1))
    assert march[5].value == pytest.approx(7 / 62) and march[5].number_format == "0.0%"
    aging = workbook["AR aging"]
    assert aging[2][3].value == dt.datetime(2026, 6, 30) and aging[2][3].number_format == "yyyy-mm-dd"
    assert zipfile.is_zipfile(path)


def test_html_is_one_self_contained_file_with_charts_and_tables(warehouse, tmp_path):
    summary = summarize(warehouse[1], None, "2025-01", "2026-06")
    html = write_summary(summary, "html", tmp_path / "all.html").read_text()
    # revenue by month and payment mix once per currency (never summed across them), occupancy once
    assert html.count("<svg") == 5
    assert "Revenue by month (EUR)" in html and "Payment-method mix (USD)" in html
    assert html.count("<table") == 4  # one per section
    for title in ("Revenue by month", "AR aging as of 2026-06-30", "Payment-method mix", "Occupancy by month"):
        assert title in html
    lowered = html.lower()
    assert "http" not in lowered and "//" not in lowered  # no URL of any kind, protocol-relative included
    assert "<script" not in lowered and "<link" not in lowered and "src=" not in lowered
    assert "Bark &amp; &lt;BnB&gt;" in html and "<BnB>" not in html  # names are escaped
    assert "99.00" in html  # bark-bnb's December 2025: 9,900 cents


def test_csv_is_one_file_per_section_in_exact_cents(paws, tmp_path):
    directory = write_summary(paws, "csv", tmp_path / "paws-csv")
    assert sorted(path.name for path in directory.iterdir()) == [
        "ar_aging.csv",
        "occupancy.csv",
        "payment_methods.csv",
        "revenue.csv",
    ]
    lines = (directory / "revenue.csv").read_text().splitlines()
    assert lines[0] == "tenant_slug,tenant_name,currency,month,invoiced_cents,collected_cents,refunded_cents,net_cents"
    assert lines[1] == "paws-inn,Paws Inn,USD,2024-11,12000,12000,0,12000"
    assert len(lines) == 1 + 20  # header + every month 2024-11..2026-06


def test_unknown_tenant_is_a_clear_error(warehouse):
    with pytest.raises(validation.InvalidInput, match="no tenant with slug 'no-such-inn'"):
        summarize(warehouse[1], "no-such-inn", "2025-01", "2025-02")


@pytest.fixture()
def cli_env(warehouse, monkeypatch, tmp_path):
    """The CLI's settings pointed at this module's databases, with a fresh home for its output."""
    ops_url, warehouse_url = warehouse
    monkeypatch.setenv("OPS_DATABASE_URL", ops_url)
    monkeypatch.setenv("WAREHOUSE_DATABASE_URL", warehouse_url)
    monkeypatch.setenv("DAGSTER_DATABASE_URL", ops_url)
    monkeypatch.setenv("KENNELWORKS_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_writes_the_default_path_and_names_an_unknown_tenant(cli_env, capsys):
    assert warehouse_cli(["finance", "summary", "--tenant", "paws-inn", "--from", "2025-01", "--to", "2026-06"]) == 0
    expected = cli_env / "reports" / "finance" / "paws-inn_2025-01_2026-06.html"
    assert expected.is_file() and "<svg" in expected.read_text()
    assert str(expected) in capsys.readouterr().out
    code = warehouse_cli(["finance", "summary", "--tenant", "no-such-inn", "--from", "2025-01", "--to", "2025-02"])
    assert code == 2
    assert capsys.readouterr().err == "error: no tenant with slug 'no-such-inn' in the warehouse\n"


def test_an_unbuilt_warehouse_is_a_clear_error(make_database):
    empty = make_database("fin_empty")
    with pytest.raises(WarehouseNotReady, match=r"not built yet \(relation .* does not exist\): run the extraction"):
        summarize(empty, "paws-inn", "2025-01", "2025-02")
