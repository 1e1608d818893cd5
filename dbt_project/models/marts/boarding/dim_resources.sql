-- One row per resource that passed the integrity checks (deleted ones included, flagged).
-- is_bookable: active and not deleted, the resources whose capacity counts.
-- Key index: proves the unique test; lets PostgreSQL drop unread joins (see dim_customers).
{{ config(indexes=[{'columns': ['resource_id'], 'unique': True}]) }}

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
        updated_at
    from resources
    where quarantine_reason is null
)

select * from final
