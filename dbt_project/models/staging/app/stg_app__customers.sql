with

source as (
    select * from {{ source('app', 'customers') }}
),

renamed as (
    select
        id as customer_id,
        tenant_id,
        first_name,
        last_name,
        email,
        phone,
        version,
        created_at,
        updated_at,
        deleted_at,
        _deleted_in_source_at as deleted_in_source_at,
        (deleted_at is not null or _deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
