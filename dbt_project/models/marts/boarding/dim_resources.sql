-- One row per resource that passed the integrity checks (deleted ones included, flagged).
-- is_bookable: active and not deleted, the resources whose capacity counts.
-- Patched by key (see dim_customers), not swapped for a new table: the swap's ACCESS
-- EXCLUSIVE lock would wait for every analyst reading rpt_reservation_calendar, which joins it.
-- Key index: proves the unique test; lets PostgreSQL drop unread joins (see dim_customers).
{{ config(
    materialized='patched_by_key',
    unique_key='resource_id',
    changes_from='int_resource_changes',
    indexes=[{'columns': ['resource_id'], 'unique': True}],
) }}

-- depends_on: {{ ref('int_resource_changes') }}

with

resources as (
    select * from {{ ref('int_resources_checked') }}
),

final as (
    select
        resource_id,
        tenant_id,
        resource_name,
        suite_type,
        capacity,
        is_active,
        is_deleted,
        (is_active and not is_deleted) as is_bookable,
        created_at,
        updated_at,
        changed_at
    from resources
    where quarantine_reason is null
)

select * from final
