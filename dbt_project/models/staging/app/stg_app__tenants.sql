with

source as (
    select * from {{ source('app', 'tenants') }}
),

renamed as (
    select
        id as tenant_id,
        slug as tenant_slug,
        name as tenant_name,
        timezone,
        plan,
        created_at,
        updated_at,
        deleted_at,
        _deleted_in_source_at as deleted_in_source_at,
        (deleted_at is not null or _deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
