-- One row per tenant and aging bucket (all five for every live tenant, zero when empty): the
-- open balance of open invoices issued by var run_date, bucketed by days past due at run_date
-- (due_on, else issued_on). Balance = invoice total - payments + refunds up to run_date.
{{ config(unique_key=['tenant_id', 'bucket'], indexes=[{'columns': ['tenant_id', 'bucket'], 'unique': True}]) }}

with

invoices as (
    select * from {{ ref('fct_invoices') }}
),

ledger as (
    select * from {{ ref('fct_financial_transactions') }}
),

tenants as (
    select * from {{ ref('stg_app__tenants') }}
),

buckets as (
    select *
    from (
        values
            (1, 'current'),
            (2, '1-30'),
            (3, '31-60'),
            (4, '61-90'),
            (5, '90+')
    ) as buckets (bucket_order, bucket)
),

settled as (
    select
        ledger.tenant_id,
        ledger.invoice_id,
        sum(ledger.amount_cents) as settled_cents
    from ledger
    where ledger.kind in ('payment', 'refund')
        and ledger.is_open
        and ledger.occurred_on <= {{ run_date() }}
    group by ledger.tenant_id, ledger.invoice_id
),

open_invoices as (
    select
        invoices.tenant_id,
        invoices.invoice_id,
        invoices.total_cents - coalesce(settled.settled_cents, 0) as open_cents,
        {{ run_date() }} - coalesce(invoices.due_on, invoices.issued_on) as days_past_due
    from invoices
    left join settled
        on invoices.tenant_id = settled.tenant_id
        and invoices.invoice_id = settled.invoice_id
    where invoices.status = 'open'
        and not invoices.is_deleted
        and invoices.issued_on <= {{ run_date() }}
),

bucketed as (
    select
        tenant_id,
        case
            when days_past_due <= 0 then 'current'
            when days_past_due <= 30 then '1-30'
            when days_past_due <= 60 then '31-60'
            when days_past_due <= 90 then '61-90'
            else '90+'
        end as bucket,
        open_cents
    from open_invoices
),

totals as (
    select
        tenant_id,
        bucket,
        sum(open_cents)::bigint as open_cents,
        count(*) as invoice_count
    from bucketed
    group by tenant_id, bucket
),

final as (
    select
        tenants.tenant_id,
        buckets.bucket,
        buckets.bucket_order,
        coalesce(totals.open_cents, 0) as open_cents,
        coalesce(totals.invoice_count, 0) as invoice_count
    from tenants
    cross join buckets
    left join totals
        on tenants.tenant_id = totals.tenant_id
        and buckets.bucket = totals.bucket
    where not tenants.is_deleted
)

select * from final
