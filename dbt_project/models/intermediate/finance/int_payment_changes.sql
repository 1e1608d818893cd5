-- Every cause that can change a payment's check, with when it changed: the payment row
-- itself or its invoice's check. int_payments_checked re-derives the payments changed since
-- its last build from this (macro kw_change_causes).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__payments'), 'payment_id', [
    {'relation': ref('int_invoices_checked'), 'on': 'invoice_id'},
]) }}
