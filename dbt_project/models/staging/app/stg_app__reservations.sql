with

source as (
    select * from {{ source('app', 'reservations') }}
),

renamed as (
    select
        id as reservation_id,
        tenant_id,
        customer_id,
        pet_id,
        resource_id,
        service_id,
        requested_suite_type,
        status,
        start_date,
        end_date,
        checked_in_at,
        checked_out_at,
        total_cents,
        notes,
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
