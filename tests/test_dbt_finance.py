"""Finance models end to end: source rows -> load_all -> real dbt build -> asserted figures.

Run date 2026-06-15, so the archive cut-off is 2025-06-15. Tenant 1 is in New York, tenant 2
in Berlin (ahead of UTC: 00:30 local is the previous UTC day). Every expected figure is either
computed here directly from the source tables (the definitions of DESIGN.md §4, written
independently of the models) or written out by hand.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from dbt_finance_fixtures import customer, insert, tenant, uid

from expectations.conservation import suites as conservation_suites
from expectations.runner import run_suites
from pipelines.lib.dbt import dbt_build
from pipelines.lib.extract import load_all
from pipelines.source.create import create_source_schema

RUN_DATE = "2026-06-15"
NY, BER, MARS = 1, 2, 3
MODELS = ["+rpt_finance_monthly", "+rpt_ar_aging", "+fct_payments", "+fct_refunds", "+quarantined_rows"]

# invoice number -> (n, tenant, customer n, status, issued_on, due_on, total_cents, deleted)
INVOICES = {
    "old-paid": (1, NY, 1, "paid", "2024-03-10", "2024-04-09", 10_000, False),
    "old-open": (2, NY, 1, "open", "2024-05-01", "2024-05-31", 5_000, False),
    "recent-paid": (3, NY, 2, "paid", "2026-03-08", "2026-04-07", 7_000, False),
    "due-soon": (4, NY, 2, "open", "2026-06-01", "2026-06-20", 4_000, False),
    "overdue-45": (5, NY, 1, "open", "2026-04-01", "2026-05-01", 3_000, False),
    "draft": (6, NY, 1, "draft", "2026-06-01", None, 999, False),
    "void": (7, NY, 1, "void", "2026-05-01", None, 888, False),
    "deleted": (8, NY, 1, "paid", "2026-05-02", None, 5_555, True),
    "customer-deleted": (9, NY, 3, "paid", "2026-05-03", None, 1_234, False),
    "cross-tenant": (10, NY, 4, "paid", "2026-05-04", None, 777, False),
    "customer-missing": (11, NY, 99, "open", "2026-05-05", None, 666, False),
    "ber-dst-end": (12, BER, 4, "paid", "2025-10-20", None, 20_000, False),
    "ber-dst-start": (13, BER, 4, "paid", "2026-03-27", None, 3_000, False),
    "ber-old": (14, BER, 4, "paid", "2023-12-31", None, 4_200, False),
    "bad-timezone": (15, MARS, 5, "paid", "2026-05-06", None, 100, False),
    "negative": (16, NY, 1, "paid", "2026-05-07", None, -50, False),
    "stay-quarantined": (17, NY, 1, "paid", "2026-05-08", None, 321, False),  # its reservation's pet is missing
}

# payment n -> (tenant, invoice number, amount, status, paid_at)
PAYMENTS = {
    1: (NY, "old-paid", 10_000, "succeeded", "2024-03-12T15:00:00Z"),
    2: (NY, "old-open", 1_500, "succeeded", "2024-05-10T15:00:00Z"),
    3: (NY, "recent-paid", 7_000, "succeeded", "2026-03-08T23:30:00-04:00"),  # local 03-08, UTC 03-09
    4: (NY, "draft", 999, "failed", "2026-06-02T12:00:00Z"),
    5: (NY, "deleted", 5_555, "succeeded", "2026-05-02T12:00:00Z"),
    6: (NY, "customer-deleted", 1_234, "succeeded", "2026-05-03T12:00:00Z"),
    7: (BER, "recent-paid", 50, "succeeded", "2026-03-09T12:00:00Z"),  # cross-tenant payment
    8: (BER, "ber-dst-end", 20_000, "succeeded", "2025-10-26T00:30:00+02:00"),  # local 10-26, UTC 10-25
    9: (BER, "ber-dst-start", 3_000, "succeeded", "2026-03-29T00:30:00+01:00"),  # local 03-29, UTC 03-28
    10: (BER, "ber-old", 4_200, "succeeded", "2024-01-01T00:30:00+01:00"),  # local 2024-01, UTC 2023-12
    11: (MARS, "bad-timezone", 100, "succeeded", "2026-05-06T12:00:00Z"),
    12: (NY, "recent-paid", -300, "succeeded", "2026-03-10T12:00:00Z"),
}

# refund n -> (tenant, payment n, amount, refunded_at)
REFUNDS = {
    1: (NY, 1, 2_000, "2024-04-01T15:00:00Z"),
    2: (BER, 9, 500, "2026-03-31T00:15:00+02:00"),  # local 03-31, UTC 03-30
    3: (NY, 6, 100, "2026-05-04T12:00:00Z"),  # of a quarantined payment
}

QUARANTINED = {
    "invoices": {
        uid(3, 9): "orphan: customer deleted",
        uid(3, 10): "cross_tenant: customer",
        uid(3, 11): "orphan: customer missing",
        uid(3, 15): "invalid: tenant timezone",
        uid(3, 16): "invalid: negative total_cents",
        uid(3, 17): "orphan: reservation quarantined",
    },
    "payments": {
        uid(5, 5): "orphan: invoice deleted",
        uid(5, 6): "orphan: invoice quarantined",
        uid(5, 7): "cross_tenant: invoice",
        uid(5, 11): "orphan: invoice quarantined",
        uid(5, 12): "invalid: negative amount_cents",
    },
    "refunds": {uid(6, 3): "orphan: payment quarantined"},
}


def seed_source(ops_url: str) -> None:
    create_source_schema(ops_url)
    with psycopg.connect(ops_url) as conn:
        insert(
            conn,
            "tenants",
            [tenant(NY, "America/New_York"), tenant(BER, "Europe/Berlin"), tenant(MARS, "Mars/Olympus_Mons")],
        )
        insert(
            conn,
            "customers",
            [
                customer(1, NY, "Ada", "Lovelace"),
                customer(2, NY, "Grace", "Hopper"),
                customer(3, NY, "Gone", "Away", deleted=True),
                customer(4, BER, "Emmy", "Noether"),
                customer(5, MARS, "Marvin", "Martian"),
            ],
        )
        insert(
            conn,
            "services",
            [
                {
                    "id": uid(10, 1),
                    "tenant_id": uid(1, NY),
                    "name": "Boarding",
                    "category": "boarding",
                    "price_cents": 321,
                }
            ],
        )
        insert(
            conn,
            "reservations",
            [
                {
                    "id": uid(11, 1),
                    "tenant_id": uid(1, NY),
                    "customer_id": uid(2, 1),
                    "pet_id": uid(12, 99),  # no such pet: the boarding check quarantines the stay
                    "service_id": uid(10, 1),
                    "status": "checked_out",
                    "start_date": "2026-05-01",
                    "end_date": "2026-05-08",
                    "total_cents": 321,
                }
            ],
        )
        insert(
            conn,
            "invoices",
            [
                {
                    "id": uid(3, n),
                    "tenant_id": uid(1, t),
                    "customer_id": uid(2, c),
                    "reservation_id": uid(11, 1) if number == "stay-quarantined" else None,
                    "number": number,
                    "status": status,
                    "issued_on": issued,
                    "due_on": due,
                    "subtotal_cents": total,
                    "tax_cents": 0,
                    "total_cents": total,
                    "deleted_at": "2026-05-10T00:00:00Z" if deleted else None,
                }
                for number, (n, t, c, status, issued, due, total, deleted) in INVOICES.items()
            ],
        )
        insert(
            conn,
            "invoice_lines",
            [
                {
                    "id": uid(4, n),
                    "tenant_id": uid(1, t),
                    "invoice_id": uid(3, n),
                    "description": "Boarding",
                    "quantity": 1,
                    "unit_price_cents": total,
                    "amount_cents": total,
                }
                for (n, t, _, _, _, _, total, _) in INVOICES.values()
            ],
        )
        insert(
            conn,
            "payments",
            [
                {
                    "id": uid(5, n),
                    "tenant_id": uid(1, t),
                    "invoice_id": uid(3, INVOICES[number][0]),
                    "amount_cents": amount,
                    "method": "card",
                    "status": status,
                    "paid_at": paid_at,
                }
                for n, (t, number, amount, status, paid_at) in PAYMENTS.items()
            ],
        )
        insert(
            conn,
            "refunds",
            [
                {
                    "id": uid(6, n),
                    "tenant_id": uid(1, t),
                    "payment_id": uid(5, p),
                    "amount_cents": amount,
                    "reason": "goodwill",
                    "refunded_at": at,
                }
                for n, (t, p, amount, at) in REFUNDS.items()
            ],
        )


# The definitions of DESIGN.md §4, straight from the source tables: invoiced on issued_on,
# collected/refunded on the tenant-local date; quarantined rows (customer missing, deleted or
# in another tenant; unknown tenant timezone; negative amounts; a stay whose pet is missing;
# payment of such an invoice or of another tenant's) count in no figure.
SOURCE_MONTHLY_SQL = """
with clean_invoices as (
    select i.*, t.timezone
    from app.invoices i
    join app.customers c on c.id = i.customer_id and c.tenant_id = i.tenant_id and c.deleted_at is null
    join app.tenants t on t.id = i.tenant_id and t.timezone in (select name from pg_timezone_names)
    where i.deleted_at is null and i.total_cents >= 0
        and (i.reservation_id is null or exists (
            select from app.reservations r
            join app.pets pt on pt.id = r.pet_id and pt.tenant_id = r.tenant_id and pt.deleted_at is null
            where r.id = i.reservation_id and r.tenant_id = i.tenant_id and r.deleted_at is null))
),
clean_payments as (
    select p.*, (p.paid_at at time zone i.timezone)::date as local_date, i.timezone
    from app.payments p
    join clean_invoices i on i.id = p.invoice_id and i.tenant_id = p.tenant_id
    where p.amount_cents >= 0
),
entries as (
    select tenant_id, issued_on as day, total_cents as invoiced, 0 as collected, 0 as refunded
    from clean_invoices where status in ('open', 'paid')
    union all
    select tenant_id, local_date, 0, amount_cents, 0 from clean_payments where status = 'succeeded'
    union all
    select r.tenant_id, (r.refunded_at at time zone p.timezone)::date, 0, 0, r.amount_cents
    from app.refunds r
    join clean_payments p on p.id = r.payment_id and p.tenant_id = r.tenant_id
    where r.amount_cents >= 0
)
select tenant_id, date_trunc('month', day)::date as month,
       sum(invoiced)::bigint, sum(collected)::bigint, sum(refunded)::bigint,
       (sum(collected) - sum(refunded))::bigint
from entries group by 1, 2 order by 1, 2
"""


def build(warehouse_url: str, target, full_refresh: bool = False, run_date: str = RUN_DATE) -> None:
    """dbt build of MODELS; `cautious` runs only the tests whose every parent is built here
    (other concerns' tests on shared models such as dq.quarantined_rows are theirs to run)."""
    dbt_build(warehouse_url, MODELS, {"run_date": run_date}, full_refresh, target)


def fetch(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def count_of(url: str, relation: str) -> int:
    return fetch(url, f"select count(*) from {relation}")[0][0]


@pytest.fixture(scope="module")
def databases(make_database, tmp_path_factory):
    """Seeded source, extracted, one dbt build; yields (ops_url, warehouse_url, target_path)."""
    ops_url, warehouse_url = make_database("ops"), make_database("warehouse")
    seed_source(ops_url)
    load_all(ops_url, warehouse_url)
    target = tmp_path_factory.mktemp("dbt_target")
    build(warehouse_url, target)
    return ops_url, warehouse_url, target


@pytest.fixture(scope="module")
def first_build(databases):
    """Everything the tests read from the first build, captured before any later mutation."""
    ops_url, warehouse_url, _ = databases
    ledger = "select kind, source_id, amount_cents, occurred_on from {} order by 1, 2"
    return {
        "source_monthly": fetch(ops_url, SOURCE_MONTHLY_SQL),
        "monthly": fetch(
            warehouse_url,
            "select tenant_id, month, invoiced_cents, collected_cents, refunded_cents, net_cents "
            "from reporting.rpt_finance_monthly order by 1, 2",
        ),
        "daily": {
            (row[0], row[1]): row[2:]
            for row in fetch(
                warehouse_url,
                "select tenant_id, date, collected_cents, refunded_cents, payment_count "
                "from reporting.rpt_finance_daily",
            )
        },
        "ledger": fetch(warehouse_url, ledger.format("intermediate.int_financial_transactions")),
        "live": fetch(warehouse_url, ledger.format("marts.fct_financial_transactions")),
        "archive": fetch(warehouse_url, ledger.format("archive.financial_transactions")),
        "archived_at": dict(
            fetch(warehouse_url, "select transaction_id, archived_at from archive.financial_transactions")
        ),
        "aging": {
            (row[0], row[1]): row[2:]
            for row in fetch(
                warehouse_url, "select tenant_id, bucket, open_cents, invoice_count from reporting.rpt_ar_aging"
            )
        },
    }


def test_monthly_equals_sums_computed_from_the_source_including_archived_months(first_build):
    assert first_build["monthly"] == first_build["source_monthly"]
    months = {(tenant_id, month) for tenant_id, month, *_ in first_build["monthly"]}
    # archived history is present: 2024 months of both tenants (Berlin's payment of 00:30 on
    # 1 Jan 2024 local time is in January, though it was still 2023 in UTC)
    assert (uid(1, NY), dt.date(2024, 3, 1)) in months
    assert (uid(1, BER), dt.date(2024, 1, 1)) in months
    assert (uid(1, BER), dt.date(2023, 12, 1)) in months  # ber-old was issued on 2023-12-31


def test_monthly_figures_by_hand(first_build):
    monthly = {(row[0], row[1]): row[2:] for row in first_build["monthly"]}
    # March 2024, New York: invoiced 10000, collected 10000, nothing refunded yet
    assert monthly[(uid(1, NY), dt.date(2024, 3, 1))] == (10_000, 10_000, 0, 10_000)
    # April 2024: the 2000 refund
    assert monthly[(uid(1, NY), dt.date(2024, 4, 1))] == (0, 0, 2_000, -2_000)
    # May 2026, New York: only void, draft, deleted and quarantined invoices: no figure at all
    assert (uid(1, NY), dt.date(2026, 5, 1)) not in monthly
    assert monthly[(uid(1, NY), dt.date(2024, 5, 1))] == (5_000, 1_500, 0, 1_500)


@pytest.mark.parametrize(
    ("tenant_n", "local_date", "collected", "refunded"),
    [
        (BER, dt.date(2025, 10, 26), 20_000, 0),  # 00:30 CEST on the day DST ends (UTC: 10-25)
        (BER, dt.date(2026, 3, 29), 3_000, 0),  # 00:30 CET on the day DST starts (UTC: 03-28)
        (BER, dt.date(2026, 3, 31), 0, 500),  # refund at 00:15 local (UTC: 03-30)
        (NY, dt.date(2026, 3, 8), 7_000, 0),  # 23:30 EDT on the day DST starts (UTC: 03-09)
    ],
)
def test_payment_lands_on_the_tenant_local_date_on_dst_change_days(
    first_build, tenant_n, local_date, collected, refunded
):
    daily = first_build["daily"]
    assert daily[(uid(1, tenant_n), local_date)][:2] == (collected, refunded)
    utc_date = local_date - dt.timedelta(days=1) if tenant_n == BER else local_date + dt.timedelta(days=1)
    assert (uid(1, tenant_n), utc_date) not in daily


def test_live_plus_archive_equals_ledger_in_rows_and_cents(first_build):
    live, archive, ledger = first_build["live"], first_build["archive"], first_build["ledger"]
    assert sorted(live + archive) == sorted(ledger)
    assert not set(live) & set(archive)
    assert sum(row[2] for row in live + archive) == sum(row[2] for row in ledger)


def test_archive_holds_completed_entries_older_than_twelve_months_only(first_build):
    archived = {(kind, source_id) for kind, source_id, *_ in first_build["archive"]}
    assert archived == {
        ("charge", uid(3, 1)),
        ("payment", uid(5, 1)),
        ("refund", uid(6, 1)),
        ("charge", uid(3, 14)),
        ("payment", uid(5, 10)),
    }
    live = {(kind, source_id) for kind, source_id, *_ in first_build["live"]}
    # the open invoice of May 2024 and its partial payment stay live however old they are
    assert {("charge", uid(3, 2)), ("payment", uid(5, 2))} <= live


def test_ledger_signs_and_exclusions(first_build):
    by_key = {(kind, source_id): amount for kind, source_id, amount, _ in first_build["ledger"]}
    assert by_key[("refund", uid(6, 1))] == -2_000
    assert by_key[("payment", uid(5, 1))] == 10_000
    excluded = [uid(3, n) for n in (6, 7, 8, 9, 10, 11, 15, 16, 17)] + [uid(5, n) for n in (4, 5, 6, 7, 11, 12)]
    assert not [key for key in by_key if key[1] in excluded]


def test_ar_aging_buckets_open_balances_at_run_date(first_build):
    aging = first_build["aging"]
    assert aging[(uid(1, NY), "current")] == (4_000, 1)  # due 2026-06-20
    assert aging[(uid(1, NY), "1-30")] == (0, 0)
    assert aging[(uid(1, NY), "31-60")] == (3_000, 1)  # 45 days past due
    assert aging[(uid(1, NY), "61-90")] == (0, 0)
    assert aging[(uid(1, NY), "90+")] == (3_500, 1)  # 5000 less the 1500 paid
    assert all(aging[(uid(1, BER), bucket)] == (0, 0) for bucket in ("current", "1-30", "31-60", "61-90", "90+"))
    assert len(aging) == 15  # five buckets for each of the three tenants, none missing


@pytest.mark.parametrize("table", ["invoices", "payments", "refunds"])
def test_raw_equals_mart_plus_quarantine(databases, table):
    _, warehouse_url, _ = databases
    raw = count_of(warehouse_url, f"raw.{table}")
    mart = count_of(warehouse_url, f"marts.fct_{table}")
    quarantined = dict(
        fetch(warehouse_url, "select record_key, reason from dq.quarantined_rows where source_table = %s", [table])
    )
    assert quarantined == {str(key): reason for key, reason in QUARANTINED[table].items()}
    assert raw == mart + len(quarantined)


@pytest.fixture(scope="module")
def after_purge(databases, first_build):
    """Berlin's archived 2024 payment is purged from the source, extracted, and dbt rebuilt
    with --full-refresh."""
    ops_url, warehouse_url, target = databases
    with psycopg.connect(ops_url) as conn:
        conn.execute("delete from app.payments where id = %s", [uid(5, 10)])
    load_all(ops_url, warehouse_url)
    build(warehouse_url, target, full_refresh=True)
    return warehouse_url


def test_purged_row_stays_in_the_archive_after_a_full_refresh(after_purge, first_build):
    warehouse_url = after_purge
    assert fetch(
        warehouse_url, "select _deleted_in_source_at is not null from raw.payments where id = %s", [uid(5, 10)]
    ) == [(True,)]
    archived = fetch(
        warehouse_url, "select kind, source_id, amount_cents, archived_at from archive.financial_transactions"
    )
    assert ("payment", uid(5, 10), 4_200) in {row[:3] for row in archived}
    assert len(archived) == len(first_build["archive"])
    ledger = fetch(warehouse_url, "select source_id from intermediate.int_financial_transactions")
    assert (uid(5, 10),) not in ledger
    # finance history does not change: Berlin's January 2024 still shows the 4200 collected
    monthly = fetch(
        warehouse_url,
        "select collected_cents from reporting.rpt_finance_monthly where tenant_id = %s and month = '2024-01-01'",
        [uid(1, BER)],
    )
    assert monthly == [(4_200,)]


def test_the_conservation_check_leaves_out_a_purged_entry_kept_in_the_archive_only(after_purge, tmp_path):
    ledger_suite = [suite for suite in conservation_suites() if suite.relation == "marts.fct_financial_transactions"]

    def ledger_conserved() -> bool:
        (outcome,) = [o for suite in run_suites(after_purge, ledger_suite, gx_project_root=tmp_path).suites
                      for o in suite.outcomes]  # fmt: skip
        return outcome.success

    assert ledger_conserved()  # the purged payment is in the archive, not in the ledger
    # a live entry lost is not excused: the check still compares every entry the ledger holds
    with psycopg.connect(after_purge) as conn:
        conn.execute(
            "create table public.kw_lost_entry as select * from marts.fct_financial_transactions "
            "order by transaction_id limit 1"
        )
        conn.execute(
            "delete from marts.fct_financial_transactions where transaction_id in "
            "(select transaction_id from public.kw_lost_entry)"
        )
    try:
        assert not ledger_conserved()
    finally:
        with psycopg.connect(after_purge) as conn:
            conn.execute("insert into marts.fct_financial_transactions select * from public.kw_lost_entry")
            conn.execute("drop table public.kw_lost_entry")
    assert ledger_conserved()


@pytest.fixture(scope="module")
def after_move(after_purge, databases):
    """Five months later (run date 2026-11-15, cut-off 2025-11-15) Berlin's October 2025
    invoice and payment are due for the archive; an ordinary incremental build moves them."""
    _, warehouse_url, target = databases
    before = {
        "monthly": fetch(warehouse_url, "select * from reporting.rpt_finance_monthly order by 1, 2"),
        "daily": fetch(warehouse_url, "select * from reporting.rpt_finance_daily order by 1, 2"),
        "live": fetch(warehouse_url, "select transaction_id from marts.fct_financial_transactions"),
    }
    build(warehouse_url, target, run_date="2026-11-15")
    return warehouse_url, before


def test_rows_move_from_live_to_archive_and_figures_do_not_change(after_move, first_build):
    warehouse_url, before = after_move
    archived_at = dict(fetch(warehouse_url, "select transaction_id, archived_at from archive.financial_transactions"))
    moved = {
        source_id
        for (source_id,) in fetch(
            warehouse_url,
            "select source_id from archive.financial_transactions where transaction_id <> all(%s)",
            [list(first_build["archived_at"])],
        )
    }
    assert moved == {uid(3, 12), uid(5, 8)}
    # rows archived earlier were never rewritten: same rows, same archived_at
    assert {key: archived_at[key] for key in first_build["archived_at"]} == first_build["archived_at"]
    live = {row[0] for row in fetch(warehouse_url, "select transaction_id from marts.fct_financial_transactions")}
    assert not live & set(archived_at)
    assert live | set(archived_at) >= {row[0] for row in before["live"]}
    assert fetch(warehouse_url, "select * from reporting.rpt_finance_monthly order by 1, 2") == before["monthly"]
    # the moved rows' days now come from the archive's summed days, which they were added to
    assert fetch(warehouse_url, "select * from reporting.rpt_finance_daily order by 1, 2") == before["daily"]
    archived_days = "select date from intermediate.int_archived_finance_daily where tenant_id = %s and date >= %s"
    assert fetch(warehouse_url, archived_days, [uid(1, BER), dt.date(2025, 10, 1)]) != []


def test_patched_ledger_equals_a_full_rebuild(after_move, databases):
    """App traffic after the move: the open invoice 'due-soon' is paid (every entry of it
    changes is_open) and payment 2 is re-booked from 'old-open' to 'overdue-45'; customer 2 is
    deleted, so its invoice 'recent-paid' (changed through its parent only) and that invoice's
    payment are quarantined. The ordinary build patches just those sources; its checks,
    quarantine, ledger, live ledger, invoices and payments equal a --full-refresh build's."""
    ops_url, warehouse_url, target = databases
    with psycopg.connect(ops_url) as conn:
        conn.execute("update app.invoices set status = 'paid' where id = %s", [uid(3, 4)])
        conn.execute("update app.payments set invoice_id = %s where id = %s", [uid(3, 5), uid(5, 2)])
        conn.execute("update app.customers set deleted_at = now() where id = %s", [uid(2, 2)])
    load_all(ops_url, warehouse_url)
    build(warehouse_url, target, run_date="2026-11-15")
    patched_models = ("int_financial_transactions", "int_invoices_checked", "int_payments_checked",
                      "int_invoice_lines_quarantined")  # fmt: skip
    for model in patched_models:
        comment = fetch(warehouse_url, f"select obj_description('intermediate.{model}'::regclass, 'pg_class')")[0][0]
        assert "patched keys=" in comment, model
    quarantine = "select * from dq.quarantined_rows order by source_table, record_key"
    patched_quarantine = fetch(warehouse_url, quarantine)
    reasons = {(row[0], row[1]): row[3] for row in patched_quarantine}
    assert reasons[("invoices", str(uid(3, 3)))] == "orphan: customer deleted"
    assert reasons[("payments", str(uid(5, 3)))] == "orphan: invoice quarantined"
    assert reasons[("invoice_lines", str(uid(4, 3)))] == "orphan: invoice quarantined"  # its invoice's parent changed
    checks = [f"select * from intermediate.{model} order by 1" for model in ("int_invoices_checked",
                                                                            "int_payments_checked")]  # fmt: skip
    patched_checks = [fetch(warehouse_url, query) for query in checks]
    ledger = "select * from intermediate.int_financial_transactions order by transaction_id"
    patched = fetch(warehouse_url, ledger)
    moved = [row for row in patched if row[3] == uid(5, 2)]  # (transaction_id, tenant, kind, source_id, invoice_id…)
    assert [row[4] for row in moved] == [uid(3, 5)]
    assert not [row for row in patched if row[4] == uid(3, 4) and row[9]]  # nothing of 'due-soon' is open
    marts = [f"select * from marts.{table} order by 1" for table in ("fct_financial_transactions", "fct_invoices",
                                                                      "fct_payments")]  # fmt: skip
    patched_marts = [fetch(warehouse_url, query) for query in marts]
    daily = "select * from reporting.rpt_finance_daily order by 1, 2"
    archived_days = "select * from intermediate.int_archived_finance_daily order by 1, 2"
    patched_daily, patched_archived_days = fetch(warehouse_url, daily), fetch(warehouse_url, archived_days)
    build(warehouse_url, target, run_date="2026-11-15", full_refresh=True)
    assert fetch(warehouse_url, daily) == patched_daily
    # the archive's days, added to build after build, equal the whole archive summed again
    assert fetch(warehouse_url, archived_days) == patched_archived_days
    assert fetch(warehouse_url, ledger) == patched
    assert [fetch(warehouse_url, query) for query in marts] == patched_marts
    assert [fetch(warehouse_url, query) for query in checks] == patched_checks
    # first_seen_at differs (a full refresh sees every row for the first time): compare the rest
    assert [row[:4] for row in fetch(warehouse_url, quarantine)] == [row[:4] for row in patched_quarantine]


def test_an_ordinary_build_archives_what_became_due_looking_at_the_changes_only(after_move, databases):
    """After the full refresh above, an ordinary build a year later (run date 2027-06-15,
    cut-off 2026-06-15): a payment of 2024 recorded late (never in the live ledger) and the
    live entries that crossed the cut-off are archived, though the archive looks only at the
    live ledger and the re-derived entries, not at the whole ledger."""
    ops_url, warehouse_url, target = databases
    build(warehouse_url, target, run_date="2026-11-15")  # the state the next night starts from
    late = uid(5, 20)
    with psycopg.connect(ops_url) as conn:
        payment = {"id": late, "tenant_id": uid(1, NY), "invoice_id": uid(3, 1), "amount_cents": 250,
                   "method": "card", "status": "succeeded", "paid_at": "2024-03-20T15:00:00Z"}  # fmt: skip
        insert(conn, "payments", [payment])
    load_all(ops_url, warehouse_url)
    archived_before = {
        row[0] for row in fetch(warehouse_url, "select transaction_id from archive.financial_transactions")
    }
    build(warehouse_url, target, run_date="2027-06-15")

    comment = fetch(warehouse_url, "select obj_description('archive.financial_transactions'::regclass, 'pg_class')")
    assert "looked=changed" in comment[0][0]
    archive = {
        row[0]: row[1]
        for row in fetch(warehouse_url, "select transaction_id, source_id from archive.financial_transactions")
    }
    due = {
        row[0]
        for row in fetch(
            warehouse_url,
            "select transaction_id from intermediate.int_financial_transactions "
            "where not is_open and occurred_on < '2026-06-15'",
        )
    }
    assert late in archive.values()  # re-derived: found through int_ledger_changes
    crossed = due - archived_before - {key for key, source in archive.items() if source == late}
    assert crossed, "live entries crossed the cut-off"  # found through the live ledger
    assert due <= set(archive)
    live = {row[0] for row in fetch(warehouse_url, "select transaction_id from marts.fct_financial_transactions")}
    ledger = {
        row[0] for row in fetch(warehouse_url, "select transaction_id from intermediate.int_financial_transactions")
    }
    assert not live & set(archive)
    assert live | (set(archive) & ledger) == ledger
