with

source as (
    select * from {{ source('app', 'invoices') }}
),

renamed as (
    select
        id as invoice_id,
        tenant_id,
        customer_id,
        reservation_id,
        number as invoice_number,
        status,
        issued_on,
        due_on,
        subtotal_cents,
        tax_cents,
        total_cents,
        currency,
        created_at,
        updated_at,
        deleted_at,
        _deleted_in_source_at as deleted_in_source_at,
        (deleted_at is not null or _deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
