-- One row per tenant and tenant-local date with any ledger entry, over all history (live
-- ledger + archive, whose days int_archived_finance_daily keeps summed). Dates are the
-- ledger's occurred_on: a payment at 00:30 local time counts on that local date, whatever
-- the UTC date or the day's DST offset.
-- A nightly build re-derives only the days whose figures can have changed and writes only
-- their rows (macros/finance/daily_changes.sql).
{{
    config(
        unique_key=['tenant_id', 'date'],
        indexes=[{'columns': ['tenant_id', 'date'], 'unique': True}],
        sync_scope='kw_finance_daily_sync_scope',
        pre_hook="{{ kw_finance_daily_hold() }}",
        post_hook="{{ kw_finance_daily_record() }}",
    )
}}
{%- set previous = kw_finance_daily_previous() %}

with
{%- if previous %}

changed_days as materialized (
    {{ kw_finance_daily_changed_days(previous) }}
),
{%- endif %}

live as (
    select * from {{ ref('fct_financial_transactions') }}
    {%- if previous %}
    where (tenant_id, occurred_on) in (select tenant_id, date from changed_days)
    {%- endif %}
),

-- the archive's days, kept up to date as rows are archived (the archive is append-only)
archived_days as (
    select * from {{ ref('int_archived_finance_daily') }}
    {%- if previous %}
    where (tenant_id, date) in (select tenant_id, date from changed_days)
    {%- endif %}
),

live_days as (
    select
        ledger.tenant_id,
        ledger.occurred_on as date,
        {{ kw_daily_figures() }}
    from live as ledger
    group by ledger.tenant_id, ledger.occurred_on
),

days as (
    select tenant_id, date, {{ kw_daily_figure_columns() }} from live_days
    union all
    select tenant_id, date, {{ kw_daily_figure_columns() }} from archived_days
),

daily as (
    select
        days.tenant_id,
        days.date,
        {{ kw_daily_figures_added('days') }}
    from days
    group by days.tenant_id, days.date
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
