-- Every stored customer_stats row, with the reason it cannot be trusted (null when clean).
-- A table patched by key: a build re-derives only the rows whose stats or customer changed
-- (int_customer_stats_changes); rebuilt whole, it took 0.5-0.7 s of every night at scale 1.
{{ config(
    materialized='patched_by_key',
    unique_key='customer_id',
    changes_from='int_customer_stats_changes',
    indexes=[{'columns': ['customer_id'], 'unique': True}],
) }}
-- depends_on: {{ ref('int_customer_stats_changes') }}

with

customer_stats as (
    select * from {{ ref('stg_app__customer_stats') }}
),

customers as (
    select * from {{ ref('int_customers_checked') }}
),

checked as (
    select
        customer_stats.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when customers.tenant_id <> customer_stats.tenant_id then 'cross_tenant: customer'
            when customer_stats.is_deleted then null
            when customers.customer_id is null then 'orphan: customer missing'
            when customers.is_deleted then 'orphan: customer deleted'
            when customers.quarantine_reason is not null then 'orphan: customer quarantined'
        end as quarantine_reason
    from customer_stats
    -- by key alone, to see cross-tenant references
    left join customers
        on customer_stats.customer_id = customers.customer_id
)

select * from checked
