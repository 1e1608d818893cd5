{#-
    Input of reporting.rpt_leaderboard_teams: one row per tenant, period type and team with
    the distance its activities (activities.team_id) covered in the period. Synced row by row
    (strategy sync) so the materialized view on top survives and is refreshed CONCURRENTLY.
    Deleted teams are absent: their activities were quarantined (int_activities_checked).
    all_time comes from int_activity_totals, the week and month from the recent activities
    (macro kw_period_distances), so a build does not read every activity.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='sync',
        unique_key=['tenant_id', 'period_type', 'team_id'],
        indexes=[{'columns': ['tenant_id', 'period_type', 'team_id'], 'unique': True}],
    )
}}

with

-- not materialized: read twice, each time for a date range through the activity_date index
-- (a CTE read twice is otherwise materialized: all 3M activities written out first)
activities as not materialized (
    select * from {{ ref('fct_activities') }}
    where not is_deleted
        and team_id is not null
),

teams as (
    select * from {{ ref('dim_teams') }}
),

activity_totals as (
    select * from {{ ref('int_activity_totals') }}
),

periods as (
    select * from {{ ref('int_leaderboard_periods') }}
),

distances as (
    {{ kw_period_distances('activities', 'activity_totals', 'periods', 'team_id') }}
),

final as (
    select
        distances.tenant_id,
        distances.period_type,
        distances.period_start,
        distances.team_id,
        teams.team_name,
        teams.goal_distance_m,
        distances.distance_m
    from distances
    inner join teams
        on distances.tenant_id = teams.tenant_id
        and distances.team_id = teams.team_id
)

select * from final
