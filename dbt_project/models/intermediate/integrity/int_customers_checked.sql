-- Every customer, with the reason it cannot be trusted (null when clean).
-- Deleted rows count in no figure, so they are never quarantined.
with

customers as (
    select * from {{ ref('stg_app__customers') }}
),

tenants as (
    select * from {{ ref('stg_app__tenants') }}
),

checked as (
    select
        customers.*,
        case
            when customers.is_deleted then null
            when tenants.tenant_id is null then 'orphan: tenant missing'
        end as quarantine_reason,
        -- the tenant's extraction too: a tenant that appears late ends 'orphan: tenant missing'
        greatest(customers.extracted_at, customers.deleted_in_source_at, tenants.extracted_at) as changed_at
    from customers
    left join tenants
        on customers.tenant_id = tenants.tenant_id
)

select * from checked
