{#-
    The archive's daily finance figures per tenant and tenant-local date, for rpt_finance_daily.
    The archive is append-only (a row is inserted once and never changed or removed), so a
    build adds the figures of the rows archived since the newest archived_at it holds to the
    days it has, instead of summing the whole archive again: at scale 1 the archive is 70 %
    of the ledger. --full-refresh sums the whole archive.
    Exact because archive builds never overlap (one Dagster pool, and this model runs after
    the archive in a dbt run) and each stamps its rows with its transaction's start time, so a
    row committed later always carries a later archived_at.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['tenant_id', 'date'],
        indexes=[{'columns': ['tenant_id', 'date'], 'unique': True}],
    )
}}

with

newly_archived as (
    select * from {{ ref('financial_transactions') }}
    {%- if is_incremental() %}
    where archived_at > (select coalesce(max(last_archived_at), '-infinity') from {{ this }})
    {%- endif %}
),

new_days as (
    select
        ledger.tenant_id,
        ledger.occurred_on as date,
        {{ kw_daily_figures() }},
        max(ledger.archived_at) as last_archived_at
    from newly_archived as ledger
    group by ledger.tenant_id, ledger.occurred_on
),

final as (
    {%- if is_incremental() %}
    -- the day's figures so far plus the newly archived rows'
    select
        new_days.tenant_id,
        new_days.date,
        {{ kw_daily_figures_added('new_days', onto='known') }},
        new_days.last_archived_at
    from new_days
    left join {{ this }} as known
        on new_days.tenant_id = known.tenant_id
        and new_days.date = known.date
    {%- else %}
    select * from new_days
    {%- endif %}
)

select * from final
