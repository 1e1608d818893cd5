-- Every cause that can change an invoice's check, with when it changed: the invoice row
-- itself, or its tenant, customer or reservation. int_invoices_checked re-derives the
-- invoices changed since its last build from this (macro kw_change_causes).
-- Not a cause: pg_timezone_names, which changes only with a PostgreSQL upgrade (rebuild
-- with --full-refresh then).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__invoices'), 'invoice_id', [
    {'relation': ref('stg_app__tenants'), 'on': 'tenant_id', 'staging': true},
    {'relation': ref('int_customer_changes'), 'on': 'customer_id'},
    {'relation': ref('int_reservations_checked'), 'on': 'reservation_id'},
]) }}
