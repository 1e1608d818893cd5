-- Every achievement definition, with the reason it cannot be trusted (null when clean).
with

achievements as (
    select * from {{ ref('stg_app__achievements') }}
),

tenants as (
    select * from {{ ref('stg_app__tenants') }}
),

checked as (
    select
        achievements.*,
        case
            when achievements.is_deleted then null
            when tenants.tenant_id is null then 'orphan: tenant missing'
            when tenants.is_deleted then 'orphan: tenant deleted'
        end as quarantine_reason
    from achievements
    left join tenants
        on achievements.tenant_id = tenants.tenant_id
)

select * from checked
