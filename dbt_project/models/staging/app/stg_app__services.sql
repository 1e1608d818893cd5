with

source as (
    select * from {{ source('app', 'services') }}
),

renamed as (
    select
        id as service_id,
        tenant_id,
        name as service_name,
        category as service_category,
        price_cents,
        created_at,
        updated_at,
        deleted_at,
        _deleted_in_source_at as deleted_in_source_at,
        (deleted_at is not null or _deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
