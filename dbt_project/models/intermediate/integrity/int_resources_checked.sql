-- Every resource, with the reason it cannot be trusted (null when clean).
with

resources as (
    select * from {{ ref('stg_app__resources') }}
),

tenants as (
    select * from {{ ref('stg_app__tenants') }}
),

checked as (
    select
        resources.*,
        case
            when resources.is_deleted then null
            when tenants.tenant_id is null then 'orphan: tenant missing'
        end as quarantine_reason,
        -- the tenant's extraction too: a tenant that appears late ends 'orphan: tenant missing'
        greatest(resources.extracted_at, resources.deleted_in_source_at, tenants.extracted_at) as changed_at
    from resources
    left join tenants
        on resources.tenant_id = tenants.tenant_id
)

select * from checked
