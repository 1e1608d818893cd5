{#-
    One row per tenant, period and team: distance covered, the team's goal and rank. A
    materialized view refreshed CONCURRENTLY (macro postgres__refresh_materialized_view),
    which needs the unique index below. rank() ordered by distance, then by the lower team_id,
    so a tie is broken the same way on every refresh. period_start is null for all_time.
-#}
{{
    config(
        materialized='materialized_view',
        indexes=[{'columns': ['tenant_id', 'period_type', 'team_id'], 'unique': True}],
    )
}}

with

distances as (
    select * from {{ ref('int_leaderboard_team_distances') }}
),

final as (
    select
        tenant_id,
        period_type,
        period_start,
        team_id,
        team_name,
        distance_m,
        goal_distance_m,
        rank() over (
            partition by tenant_id, period_type
            order by distance_m desc, team_id
        ) as rank
    from distances
)

select * from final
