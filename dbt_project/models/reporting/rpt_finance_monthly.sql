-- One row per tenant and month (first day of the tenant-local month), all history: the sums
-- of rpt_finance_daily, which already reads live ledger + archive, so both agree by construction.
{{ config(unique_key=['tenant_id', 'month'], indexes=[{'columns': ['tenant_id', 'month'], 'unique': True}]) }}

with

daily as (
    select * from {{ ref('rpt_finance_daily') }}
),

final as (
    select
        tenant_id,
        date_trunc('month', date)::date as month,
        sum(invoiced_cents)::bigint as invoiced_cents,
        sum(collected_cents)::bigint as collected_cents,
        sum(refunded_cents)::bigint as refunded_cents,
        sum(net_cents)::bigint as net_cents,
        sum(invoice_count)::bigint as invoice_count,
        sum(payment_count)::bigint as payment_count,
        sum(refund_count)::bigint as refund_count
    from daily
    group by tenant_id, date_trunc('month', date)
)

select * from final
