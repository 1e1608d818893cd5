-- Every invoice, with the reason it cannot be trusted (null when clean); marts take the clean ones.
-- Parents are looked up by key alone, not by (tenant_id, key): a parent that exists in another
-- tenant is exactly what the cross_tenant check must see. A deleted invoice counts in no figure
-- and stays visible in the mart, flagged by is_deleted, whatever became of its parents: it is
-- quarantined only for its own values or a parent of another tenant (a leak, deleted or not).
-- A child of a quarantined parent (here, or in the customer and boarding checks) is
-- quarantined too, so no mart row points at a row its parent's mart lacks. Invalid values are
-- quarantined as well: a negative total, or a tenant timezone PostgreSQL does not know (the
-- ledger cuts days at the tenant's local midnight, so it could not place the invoice).
-- A table patched by key: a build re-derives only the invoices whose row or parent changed
-- (int_invoice_changes). The unique key index lets the ledger's patch read just the changed
-- rows (and proves the key's unique test without a scan); the changed_at index serves the
-- payments' and the ledger's change lookups.
-- quarantine_reason: dq.quarantined_rows reads the quarantined rows through it (see int_reservations_checked)
{{ config(
    materialized='patched_by_key',
    unique_key='invoice_id',
    changes_from='int_invoice_changes',
    indexes=[{'columns': ['invoice_id'], 'unique': True}, {'columns': ['changed_at']}, {'columns': ['quarantine_reason']}],
) }}
-- depends_on: {{ ref('int_invoice_changes') }}

with

invoices as (
    select * from {{ ref('stg_app__invoices') }}
),

tenants as (
    select * from {{ ref('stg_app__tenants') }}
),

customers as (
    select * from {{ ref('int_customers_checked') }}
),

reservations as (
    select * from {{ ref('int_reservations_checked') }}
),

time_zones as (
    select name from pg_catalog.pg_timezone_names
),

checked as (
    select
        invoices.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when invoices.total_cents < 0 then 'invalid: negative total_cents'
            when customers.tenant_id <> invoices.tenant_id then 'cross_tenant: customer'
            when reservations.tenant_id <> invoices.tenant_id then 'cross_tenant: reservation'
            when invoices.is_deleted then null
            when tenants.tenant_id is null then 'orphan: tenant missing'
            when tenants.is_deleted then 'orphan: tenant deleted'
            when time_zones.name is null then 'invalid: tenant timezone'
            when customers.customer_id is null then 'orphan: customer missing'
            when customers.is_deleted then 'orphan: customer deleted'
            when customers.quarantine_reason is not null then 'orphan: customer quarantined'
            when invoices.reservation_id is not null and reservations.reservation_id is null
                then 'orphan: reservation missing'
            when reservations.is_deleted then 'orphan: reservation deleted'
            when reservations.quarantine_reason is not null then 'orphan: reservation quarantined'
        end as quarantine_reason,
        -- the latest extraction of any row the outcome (and the ledger entries) depend on
        greatest(
            invoices.extracted_at,
            invoices.deleted_in_source_at,
            tenants.extracted_at,
            customers.changed_at,
            reservations.changed_at
        ) as changed_at
    from invoices
    left join tenants
        on invoices.tenant_id = tenants.tenant_id
    left join time_zones
        on tenants.timezone = time_zones.name
    left join customers
        on invoices.customer_id = customers.customer_id
    left join reservations
        on invoices.reservation_id = reservations.reservation_id
)

select * from checked
