with

source as (
    select * from {{ source('app', 'customer_stats') }}
),

renamed as (
    select
        customer_id,
        tenant_id,
        total_distance_m,
        total_duration_s,
        activity_count,
        last_activity_date,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
