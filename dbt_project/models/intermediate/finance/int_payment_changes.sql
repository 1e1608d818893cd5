-- Every cause that can change a payment's check, with when it changed: the payment row
-- itself or its invoice's check. int_payments_checked re-derives the payments changed since
-- its last build from this (see int_reservation_changes for the pattern).
{{ config(materialized='view') }}

with

payments as not materialized (
    select * from {{ ref('stg_app__payments') }}
),

causes as (
    select payment_id, greatest(extracted_at, deleted_in_source_at) as changed_at
    from payments
    union all
    select payments.payment_id, invoices.changed_at
    from payments
    inner join {{ ref('int_invoices_checked') }} as invoices
        on payments.invoice_id = invoices.invoice_id
)

select * from causes
