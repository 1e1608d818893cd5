-- Every cause that can change an invoice's check, with when it changed: the invoice row
-- itself, or its tenant, customer or reservation. int_invoices_checked re-derives the invoices
-- changed since its last build from this (see int_reservation_changes for the pattern).
-- Not a cause: pg_timezone_names, which changes only with a PostgreSQL upgrade (rebuild
-- with --full-refresh then).
{{ config(materialized='view') }}

with

invoices as not materialized (
    select * from {{ ref('stg_app__invoices') }}
),

causes as (
    select invoice_id, greatest(extracted_at, deleted_in_source_at) as changed_at
    from invoices
    union all
    select invoices.invoice_id, greatest(tenants.extracted_at, tenants.deleted_in_source_at)
    from invoices
    inner join {{ ref('stg_app__tenants') }} as tenants
        on invoices.tenant_id = tenants.tenant_id
    union all
    select invoices.invoice_id, customers.changed_at
    from invoices
    inner join {{ ref('int_customers_checked') }} as customers
        on invoices.customer_id = customers.customer_id
    union all
    select invoices.invoice_id, reservations.changed_at
    from invoices
    inner join {{ ref('int_reservations_checked') }} as reservations
        on invoices.reservation_id = reservations.reservation_id
)

select * from causes
