-- One row per activity that passed the integrity checks (int_activities_checked); deleted
-- ones included and flagged by is_deleted, so raw = this mart + quarantined rows.
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
        is_deleted
    from checked
    where quarantine_reason is null
)

select * from final
