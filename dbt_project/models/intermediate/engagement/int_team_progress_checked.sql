-- Every stored team_progress row, with the reason it cannot be trusted (null when clean).
with

team_progress as (
    select * from {{ ref('stg_app__team_progress') }}
),

teams as (
    select * from {{ ref('int_teams_checked') }}
),

checked as (
    select
        team_progress.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when teams.tenant_id <> team_progress.tenant_id then 'cross_tenant: team'
            when team_progress.is_deleted then null
            when teams.team_id is null then 'orphan: team missing'
            when teams.is_deleted then 'orphan: team deleted'
            when teams.quarantine_reason is not null then 'orphan: team quarantined'
        end as quarantine_reason
    from team_progress
    -- by key alone, to see cross-tenant references
    left join teams
        on team_progress.team_id = teams.team_id
)

select * from checked
