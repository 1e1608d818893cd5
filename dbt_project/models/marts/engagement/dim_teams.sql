-- One row per team that passed the integrity checks (int_teams_checked); deleted ones
-- included and flagged by is_deleted, so raw = this mart + quarantined rows.
-- Patched by key (see dim_customers), not swapped for a new table, whose lock would wait for
-- every analyst reading it. Key index: proves the unique test without a scan.
{{ config(
    materialized='patched_by_key',
    unique_key='team_id',
    changes_from='int_teams_checked',
    indexes=[{'columns': ['team_id'], 'unique': True}],
) }}

with

checked as (
    select * from {{ ref('int_teams_checked') }}
),

final as (
    select
        team_id,
        tenant_id,
        team_name,
        goal_distance_m,
        starts_on,
        ends_on,
        created_at,
        updated_at,
        deleted_at,
        is_deleted,
        changed_at
    from checked
    where quarantine_reason is null
)

select * from final
