"""The SQL behind each section: read-only, every value bound as a parameter.

All sections are read in ONE repeatable-read, read-only transaction, so an export is a
consistent snapshot even while dbt rebuilds the reporting relations underneath it.
The ledger is live (marts.fct_financial_transactions) + archive
(archive.financial_transactions): together they hold every ledger entry exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

from pipelines.lib.databases import sqlalchemy_url

# A tenant's currency is that of its invoices (one per tenant; should a tenant ever bill in
# several, it shows as e.g. 'EUR/USD', so nobody reads a mixed sum as one currency; '' = no
# invoices). min/max instead of string_agg(distinct): one cheap hash aggregate.
TENANTS = sa.text("""
    with

    currencies as (
        select
            tenant_id,
            min(currency) as first_currency,
            max(currency) as last_currency
        from marts.fct_invoices
        group by tenant_id
    )

    select
        tenants.tenant_id,
        tenants.tenant_slug,
        tenants.tenant_name,
        case
            when currencies.first_currency = currencies.last_currency then currencies.first_currency
            else concat_ws('/', currencies.first_currency, currencies.last_currency)
        end as currency
    from staging.stg_app__tenants as tenants
    left join currencies
        on tenants.tenant_id = currencies.tenant_id
    where not tenants.is_deleted
        and (cast(:tenant_slug as text) is null or tenants.tenant_slug = cast(:tenant_slug as text))
    order by tenants.tenant_slug
""")

MONTHLY = sa.text("""
    select
        monthly.tenant_id,
        monthly.month,
        monthly.invoiced_cents,
        monthly.collected_cents,
        monthly.refunded_cents,
        monthly.net_cents
    from reporting.rpt_finance_monthly as monthly
    where monthly.tenant_id = any(:tenant_ids)
        and monthly.month >= :first_day
        and monthly.month < :after_last_day
""")

# Method of each payment in the ledger; a payment archived and later purged from the source
# has no method any more and shows as 'unknown', so the mix always adds up to collected.
PAYMENT_METHODS = sa.text("""
    with

    ledger_payments as (
        select tenant_id, source_id, amount_cents
        from marts.fct_financial_transactions
        where kind = 'payment'
            and tenant_id = any(:tenant_ids)
            and occurred_on >= :first_day
            and occurred_on < :after_last_day
        union all
        select tenant_id, source_id, amount_cents
        from archive.financial_transactions
        where kind = 'payment'
            and tenant_id = any(:tenant_ids)
            and occurred_on >= :first_day
            and occurred_on < :after_last_day
    ),

    final as (
        select
            ledger_payments.tenant_id,
            coalesce(payments.method, 'unknown') as method,
            count(*) as payment_count,
            sum(ledger_payments.amount_cents)::bigint as collected_cents
        from ledger_payments
        left join marts.fct_payments as payments
            on ledger_payments.tenant_id = payments.tenant_id
            and ledger_payments.source_id = payments.payment_id
        group by ledger_payments.tenant_id, coalesce(payments.method, 'unknown')
    )

    select * from final
""")

# Open receivables on :as_of, from the ledger, by the rule of reporting.rpt_ar_aging
# (balance = charge - payments + refunds up to the date; days past due_on, else issued_on),
# applied to the invoices open ON that date: still open today, or paid later than :as_of.
# On the run date of the dbt build this gives exactly rpt_ar_aging.
AR_AGING = sa.text("""
    with

    ledger as (
        select tenant_id, invoice_id, kind, amount_cents, occurred_on
        from marts.fct_financial_transactions
        where tenant_id = any(:tenant_ids)
        union all
        select tenant_id, invoice_id, kind, amount_cents, occurred_on
        from archive.financial_transactions
        where tenant_id = any(:tenant_ids)
    ),

    -- only invoices that can be open on the date: open now, or paid after it. Aggregating
    -- these alone instead of the whole ledger keeps a 50-tenant export fast; every CTE is
    -- referenced once, so PostgreSQL inlines it instead of materializing the ledger.
    candidates as (
        select tenant_id, invoice_id
        from marts.fct_invoices
        where tenant_id = any(:tenant_ids)
            and status = 'open'
        union
        select tenant_id, invoice_id
        from marts.fct_financial_transactions
        where tenant_id = any(:tenant_ids)
            and kind = 'payment'
            and occurred_on > :as_of
        union
        select tenant_id, invoice_id
        from archive.financial_transactions
        where tenant_id = any(:tenant_ids)
            and kind = 'payment'
            and occurred_on > :as_of
    ),

    per_invoice as (
        select
            ledger.tenant_id,
            ledger.invoice_id,
            min(ledger.occurred_on) filter (where ledger.kind = 'charge') as issued_on,
            sum(ledger.amount_cents) filter (
                where ledger.kind = 'charge' and ledger.occurred_on <= :as_of
            ) as charged_cents,
            coalesce(sum(ledger.amount_cents) filter (
                where ledger.kind in ('payment', 'refund') and ledger.occurred_on <= :as_of
            ), 0) as settled_cents,
            bool_or(ledger.kind = 'payment' and ledger.occurred_on > :as_of) as paid_after
        from ledger
        inner join candidates
            on ledger.tenant_id = candidates.tenant_id
            and ledger.invoice_id = candidates.invoice_id
        group by ledger.tenant_id, ledger.invoice_id
    ),

    open_on_date as (
        select
            per_invoice.tenant_id,
            per_invoice.charged_cents - per_invoice.settled_cents as open_cents,
            cast(:as_of as date) - coalesce(invoices.due_on, per_invoice.issued_on) as days_past_due
        from per_invoice
        left join marts.fct_invoices as invoices
            on per_invoice.tenant_id = invoices.tenant_id
            and per_invoice.invoice_id = invoices.invoice_id
        where per_invoice.charged_cents is not null
            and (
                invoices.status = 'open'
                or (per_invoice.paid_after and per_invoice.charged_cents > per_invoice.settled_cents)
            )
    ),

    final as (
        select
            tenant_id,
            case
                when days_past_due <= 0 then 'current'
                when days_past_due <= 30 then '1-30'
                when days_past_due <= 60 then '31-60'
                when days_past_due <= 90 then '61-90'
                else '90+'
            end as bucket,
            sum(open_cents)::bigint as open_cents,
            count(*) as invoice_count
        from open_on_date
        group by 1, 2
    )

    select * from final
""")

OCCUPANCY = sa.text("""
    select
        occupancy.tenant_id,
        date_trunc('month', occupancy.date)::date as month,
        sum(occupancy.occupied)::bigint as occupied_nights,
        sum(occupancy.capacity)::bigint as capacity_nights
    from reporting.rpt_kennel_occupancy_daily as occupancy
    where occupancy.tenant_id = any(:tenant_ids)
        and occupancy.date >= :first_day
        and occupancy.date < :after_last_day
    group by occupancy.tenant_id, date_trunc('month', occupancy.date)
""")


@contextmanager
def snapshot(warehouse_url: str) -> Iterator[sa.Connection]:
    """One read-only, repeatable-read transaction on the warehouse."""
    engine = sa.create_engine(sqlalchemy_url(warehouse_url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            conn.execute(sa.text("set transaction read only"))
            yield conn
    finally:
        engine.dispose()


def read(conn: sa.Connection, query: sa.TextClause, **params) -> pd.DataFrame:
    """The rows of `query` as a DataFrame; database errors surface as SQLAlchemy's, not re-wrapped by pandas."""
    result = conn.execute(query, params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def period_params(tenant_ids: list, first_month: date, last_day: date) -> dict:
    return {"tenant_ids": tenant_ids, "first_day": first_month, "after_last_day": last_day + timedelta(days=1)}
