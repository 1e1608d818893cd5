-- Every team, with the reason it cannot be trusted (null when clean); deleted teams are
-- never quarantined (they count in no figure and stay flagged by is_deleted).
with

teams as (
    select * from {{ ref('stg_app__teams') }}
),

tenants as (
    select * from {{ ref('stg_app__tenants') }}
),

checked as (
    select
        teams.*,
        case
            when teams.is_deleted then null
            when tenants.tenant_id is null then 'orphan: tenant missing'
            when tenants.is_deleted then 'orphan: tenant deleted'
        end as quarantine_reason,
        greatest(teams.extracted_at, teams.deleted_in_source_at, tenants.extracted_at) as changed_at
    from teams
    left join tenants
        on teams.tenant_id = tenants.tenant_id
)

select * from checked
