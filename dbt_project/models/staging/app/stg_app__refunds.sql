with

source as (
    select * from {{ source('app', 'refunds') }}
),

renamed as (
    select
        id as refund_id,
        tenant_id,
        payment_id,
        amount_cents,
        reason,
        refunded_at,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
