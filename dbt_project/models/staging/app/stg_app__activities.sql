with

source as (
    select * from {{ source('app', 'activities') }}
),

renamed as (
    select
        id as activity_id,
        tenant_id,
        customer_id,
        team_id,
        pet_id,
        activity_date,
        distance_m,
        duration_s,
        route,
        created_at,
        updated_at,
        deleted_at,
        _deleted_in_source_at as deleted_in_source_at,
        (deleted_at is not null or _deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
