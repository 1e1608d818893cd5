-- One row per tenant and tenant-local date with any ledger entry, over all history (live
-- ledger + archive). Dates are the ledger's occurred_on: a payment at 00:30 local time counts
-- on that local date, whatever the UTC date or the day's DST offset.
{{ config(unique_key=['tenant_id', 'date'], indexes=[{'columns': ['tenant_id', 'date'], 'unique': True}]) }}

with

live as (
    select * from {{ ref('fct_financial_transactions') }}
),

archived as (
    select * from {{ ref('financial_transactions') }}
),

ledger as (
    select tenant_id, kind, amount_cents, occurred_on from live
    union all
    select tenant_id, kind, amount_cents, occurred_on from archived
),

daily as (
    select
        ledger.tenant_id,
        ledger.occurred_on as date,
        coalesce(sum(ledger.amount_cents) filter (where ledger.kind = 'charge'), 0) as invoiced_cents,
        coalesce(sum(ledger.amount_cents) filter (where ledger.kind = 'payment'), 0) as collected_cents,
        coalesce(-sum(ledger.amount_cents) filter (where ledger.kind = 'refund'), 0) as refunded_cents,
        count(*) filter (where ledger.kind = 'charge') as invoice_count,
        count(*) filter (where ledger.kind = 'payment') as payment_count,
        count(*) filter (where ledger.kind = 'refund') as refund_count
    from ledger
    group by ledger.tenant_id, ledger.occurred_on
),

final as (
    select
        tenant_id,
        date,
        invoiced_cents,
        collected_cents,
        refunded_cents,
        collected_cents - refunded_cents as net_cents,
        invoice_count,
        payment_count,
        refund_count
    from daily
)

select * from final
