with

source as (
    select * from {{ source('app', 'team_progress') }}
),

renamed as (
    select
        team_id,
        tenant_id,
        total_distance_m,
        member_count,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
