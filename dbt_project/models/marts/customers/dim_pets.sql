-- One row per pet that passed the integrity checks (deleted ones included, flagged).
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
        updated_at
    from pets
    where quarantine_reason is null
)

select * from final
