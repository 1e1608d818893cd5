-- One row per invoice that passed the integrity checks (int_invoices_checked); deleted ones
-- included and flagged by is_deleted, so raw = this mart + quarantined rows.
with

checked as (
    select * from {{ ref('int_invoices_checked') }}
),

final as (
    select
        invoice_id,
        tenant_id,
        customer_id,
        reservation_id,
        invoice_number,
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
        is_deleted
    from checked
    where quarantine_reason is null
)

select * from final
