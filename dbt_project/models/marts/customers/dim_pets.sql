-- One row per pet that passed the integrity checks (deleted ones included, flagged).
-- Patched by key: a build re-derives only the pets whose row or customer changed.
-- Key index: proves the unique test; lets PostgreSQL drop unread joins (see dim_customers).
{{ config(
    materialized='patched_by_key',
    unique_key='pet_id',
    changes_from='int_pet_changes',
    indexes=[{'columns': ['pet_id'], 'unique': True}],
) }}

-- depends_on: {{ ref('int_pet_changes') }}

with

pets as (
    select * from {{ ref('int_pets_checked') }}
),

final as (
    select
        pet_id,
        tenant_id,
        customer_id,
        pet_name,
        species,
        breed,
        birth_date,
        is_active,
        is_deleted,
        created_at,
        updated_at,
        changed_at
    from pets
    where quarantine_reason is null
)

select * from final
