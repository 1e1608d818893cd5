with

source as (
    select * from {{ source('app', 'achievements') }}
),

renamed as (
    select
        id as achievement_id,
        tenant_id,
        code as achievement_code,
        name as achievement_name,
        criteria,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
