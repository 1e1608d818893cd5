-- One row per invoice that passed the integrity checks (int_invoices_checked); deleted ones
-- included and flagged by is_deleted, so raw = this mart + quarantined rows.
-- Patched by key: a build re-derives only the rows whose check changed (changed_at).
-- Indexed on status: rpt_ar_aging reads the open invoices, a fraction of a percent of them
-- (a scan of every invoice took 0.3 s at scale 3).
{{ config(
    materialized='patched_by_key',
    unique_key='invoice_id',
    changes_from='int_invoices_checked',
    indexes=[{'columns': ['invoice_id'], 'unique': True}, {'columns': ['status']}],
) }}

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
        is_deleted,
        changed_at
    from checked
    where quarantine_reason is null
)

select * from final
