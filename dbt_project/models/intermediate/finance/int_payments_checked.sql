-- Every payment, with the reason it cannot be trusted (null when clean). A payment of a
-- quarantined invoice is quarantined too, so no mart row points at a quarantined parent.
-- A negative amount is quarantined as invalid: money paid back is a refund row, never a negative payment.
-- A table patched by key: a build re-derives only the payments whose row or invoice changed
-- (int_payment_changes). The unique key index lets the ledger's patch read just the changed
-- rows (and proves the key's unique test without a scan); the changed_at index serves the
-- ledger's change lookup.
-- quarantine_reason: dq.quarantined_rows reads the quarantined rows through it (see int_reservations_checked)
{{ config(
    materialized='patched_by_key',
    unique_key='payment_id',
    changes_from='int_payment_changes',
    indexes=[{'columns': ['payment_id'], 'unique': True}, {'columns': ['changed_at']}, {'columns': ['quarantine_reason']}],
) }}
-- depends_on: {{ ref('int_payment_changes') }}

with

payments as (
    select * from {{ ref('stg_app__payments') }}
),

invoices as (
    select * from {{ ref('int_invoices_checked') }}
),

checked as (
    select
        payments.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when payments.amount_cents < 0 then 'invalid: negative amount_cents'
            when invoices.tenant_id <> payments.tenant_id then 'cross_tenant: invoice'
            when payments.is_deleted then null
            when invoices.invoice_id is null then 'orphan: invoice missing'
            when invoices.is_deleted then 'orphan: invoice deleted'
            when invoices.quarantine_reason is not null then 'orphan: invoice quarantined'
        end as quarantine_reason,
        greatest(payments.extracted_at, payments.deleted_in_source_at, invoices.changed_at) as changed_at
    from payments
    -- by key alone: see int_invoices_checked
    left join invoices
        on payments.invoice_id = invoices.invoice_id
)

select * from checked
