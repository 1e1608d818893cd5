with

source as (
    select * from {{ source('app', 'invoice_lines') }}
),

renamed as (
    select
        id as invoice_line_id,
        tenant_id,
        invoice_id,
        service_id,
        description,
        quantity,
        unit_price_cents,
        amount_cents,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
