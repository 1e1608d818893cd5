with

source as (
    select * from {{ source('app', 'customer_achievements') }}
),

renamed as (
    select
        id as customer_achievement_id,
        tenant_id,
        customer_id,
        achievement_id,
        awarded_at,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
