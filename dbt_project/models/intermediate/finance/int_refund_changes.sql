-- Every cause that can change a refund's check, with when it changed: the refund row itself
-- or its payment's check. int_refunds_checked re-derives the refunds changed since its last
-- build from this (macro kw_change_causes).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__refunds'), 'refund_id', [
    {'relation': ref('int_payments_checked'), 'on': 'payment_id'},
]) }}
