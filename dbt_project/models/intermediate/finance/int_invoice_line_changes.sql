-- Every cause that can change an invoice line's check, with when it changed: the line itself
-- or its invoice. int_invoice_lines_quarantined re-checks the lines changed since its last
-- build from this (macro kw_change_causes).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__invoice_lines'), 'invoice_line_id', [
    {'relation': ref('int_invoices_checked'), 'on': 'invoice_id'},
]) }}
