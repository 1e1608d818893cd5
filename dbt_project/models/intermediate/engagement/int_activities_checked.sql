-- Every activity, with the reason it cannot be trusted (null when clean). An activity of a
-- deleted customer is quarantined, which is how deleted customers leave the leaderboards.
-- A child of a quarantined parent is quarantined too, so no mart row points at a row its
-- parent's mart lacks. team_id and pet_id are optional; when set they must resolve in the
-- same tenant. Parents are looked up by key alone, not by (tenant_id, key), to see
-- cross-tenant references. changed_at is the latest extraction of any row the outcome
-- depends on: fct_activities re-derives the activities changed since its last build from it.
-- A view: a table of 3M rows rebuilt every night cost 11 s, and its only big reader,
-- fct_activities, reads just the changed keys through it.
{{ config(materialized='view') }}

with

activities as (
    select * from {{ ref('stg_app__activities') }}
),

customers as (
    select * from {{ ref('int_customers_checked') }}
),

teams as (
    select * from {{ ref('int_teams_checked') }}
),

pets as (
    select * from {{ ref('int_pets_checked') }}
),

checked as (
    select
        activities.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when customers.tenant_id <> activities.tenant_id then 'cross_tenant: customer'
            when teams.tenant_id <> activities.tenant_id then 'cross_tenant: team'
            when pets.tenant_id <> activities.tenant_id then 'cross_tenant: pet'
            when activities.is_deleted then null
            when customers.customer_id is null then 'orphan: customer missing'
            when customers.is_deleted then 'orphan: customer deleted'
            when customers.quarantine_reason is not null then 'orphan: customer quarantined'
            when activities.team_id is not null and teams.team_id is null then 'orphan: team missing'
            when teams.is_deleted then 'orphan: team deleted'
            when teams.quarantine_reason is not null then 'orphan: team quarantined'
            when activities.pet_id is not null and pets.pet_id is null then 'orphan: pet missing'
            when pets.is_deleted then 'orphan: pet deleted'
            when pets.quarantine_reason is not null then 'orphan: pet quarantined'
        end as quarantine_reason,
        greatest(
            activities.extracted_at,
            activities.deleted_in_source_at,
            customers.changed_at,
            teams.changed_at,
            pets.changed_at
        ) as changed_at
    from activities
    left join customers
        on activities.customer_id = customers.customer_id
    left join teams
        on activities.team_id = teams.team_id
    left join pets
        on activities.pet_id = pets.pet_id
)

select * from checked
