with

source as (
    select * from {{ source('app', 'pets') }}
),

renamed as (
    select
        id as pet_id,
        tenant_id,
        customer_id,
        name as pet_name,
        species,
        breed,
        birth_date,
        is_active,
        created_at,
        updated_at,
        deleted_at,
        _deleted_in_source_at as deleted_in_source_at,
        (deleted_at is not null or _deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
