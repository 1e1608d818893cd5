-- Every stored customer_stats row, with the reason it cannot be trusted (null when clean).
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
            when customer_stats.is_deleted then null
            when customers.customer_id is null then 'orphan: customer missing'
            when customers.tenant_id <> customer_stats.tenant_id then 'cross_tenant: customer'
            when customers.is_deleted then 'orphan: customer deleted'
            when customers.quarantine_reason is not null then 'orphan: customer quarantined'
        end as quarantine_reason
    from customer_stats
    -- by key alone, to see cross-tenant references
    left join customers
        on customer_stats.customer_id = customers.customer_id
)

select * from checked
