with

source as (
    select * from {{ source('app', 'team_members') }}
),

renamed as (
    select
        id as team_member_id,
        tenant_id,
        team_id,
        customer_id,
        role,
        joined_at,
        left_at,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
