with

source as (
    select * from {{ source('app', 'payments') }}
),

renamed as (
    select
        id as payment_id,
        tenant_id,
        invoice_id,
        amount_cents,
        method,
        status,
        paid_at,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
