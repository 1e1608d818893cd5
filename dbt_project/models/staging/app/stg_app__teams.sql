with

source as (
    select * from {{ source('app', 'teams') }}
),

renamed as (
    select
        id as team_id,
        tenant_id,
        name as team_name,
        goal_distance_m,
        starts_on,
        ends_on,
        created_at,
        updated_at,
        deleted_at,
        _deleted_in_source_at as deleted_in_source_at,
        (deleted_at is not null or _deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
