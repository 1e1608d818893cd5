-- One row per activity that passed the integrity checks (int_activities_checked); deleted
-- ones included and flagged by is_deleted, so raw = this mart + quarantined rows.
-- Patched by key: a build re-derives only the activities whose row, customer, team or pet
-- changed since the previous build (changed_at, the watermark in the table's comment).
-- Each patch logs the customers of the rows it replaces (fct_activities__changes), from
-- which int_activity_totals re-derives only those customers' totals (by the customer index).
-- The leaderboards read the recent weeks by the activity_date index.
{{ config(
    materialized='patched_by_key',
    unique_key='activity_id',
    changes_from='int_activity_changes',
    indexes=[{'columns': ['activity_id'], 'unique': True}, {'columns': ['customer_id']}, {'columns': ['activity_date']}],
    log_changes_of=['customer_id'],
) }}
-- depends_on: {{ ref('int_activity_changes') }}

with

checked as (
    select * from {{ ref('int_activities_checked') }}
),

final as (
    select
        activity_id,
        tenant_id,
        customer_id,
        team_id,
        pet_id,
        activity_date,
        distance_m,
        duration_s,
        created_at,
        updated_at,
        deleted_at,
        is_deleted,
        changed_at
    from checked
    where quarantine_reason is null
)

select * from final
