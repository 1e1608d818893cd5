-- The ledger: one row per charge, payment and refund, signed cents (DESIGN.md §4 definitions).
--   charge  total_cents of a non-deleted invoice with status open or paid, on issued_on
--   payment amount_cents of a succeeded payment, at paid_at
--   refund  -amount_cents of a refund, at refunded_at
-- occurred_on is the tenant-local date (tenants.timezone), so daily figures cut at local
-- midnight; a charge happens at the local midnight that starts its issued_on.
-- transaction_id is derived from kind and source row, so it is the same in every build.
-- is_open: the entry belongs to an invoice that is still open; such entries stay live
-- whatever their age, so an open balance can always be read from the live ledger alone.
-- Patched by source row: a build re-derives only the entries whose source row, invoice,
-- payment, customer, reservation or tenant changed since the previous build (changed_at).
{{ config(
    materialized='patched_by_key',
    unique_key='source_id',
    changes_from='int_ledger_changes',
    indexes=[
        {'columns': ['source_id'], 'unique': True},
        {'columns': ['transaction_id'], 'unique': True},
    ],
) }}
-- depends_on: {{ ref('int_ledger_changes') }}

-- NOT MATERIALIZED: a CTE read more than once is otherwise computed whole before any filter,
-- and a patch's source_id filter could not reach the key indexes (16 s instead of 0.2 s).
with

invoices as not materialized (
    select * from {{ ref('int_invoices_checked') }}
    where quarantine_reason is null
        and not is_deleted
),

payments as not materialized (
    select * from {{ ref('int_payments_checked') }}
    where quarantine_reason is null
        and not is_deleted
),

refunds as (
    select * from {{ ref('int_refunds_checked') }}
    where quarantine_reason is null
        and not is_deleted
),

tenants as not materialized (
    select * from {{ ref('stg_app__tenants') }}
),

charges as (
    select
        'charge' as kind,
        invoices.invoice_id as source_id,
        invoices.tenant_id,
        invoices.invoice_id,
        invoices.customer_id,
        invoices.total_cents as amount_cents,
        invoices.issued_on::timestamp at time zone tenants.timezone as occurred_at,
        invoices.issued_on as occurred_on,
        invoices.changed_at
    from invoices
    inner join tenants
        on invoices.tenant_id = tenants.tenant_id
    where invoices.status in ('open', 'paid')
        and invoices.issued_on is not null
),

succeeded_payments as (
    select
        'payment' as kind,
        payments.payment_id as source_id,
        payments.tenant_id,
        payments.invoice_id,
        invoices.customer_id,
        payments.amount_cents,
        payments.paid_at as occurred_at,
        (payments.paid_at at time zone tenants.timezone)::date as occurred_on,
        payments.changed_at
    from payments
    inner join invoices
        on payments.tenant_id = invoices.tenant_id
        and payments.invoice_id = invoices.invoice_id
    inner join tenants
        on payments.tenant_id = tenants.tenant_id
    where payments.status = 'succeeded'
),

refunded as (
    select
        'refund' as kind,
        refunds.refund_id as source_id,
        refunds.tenant_id,
        payments.invoice_id,
        invoices.customer_id,
        -refunds.amount_cents as amount_cents,
        refunds.refunded_at as occurred_at,
        (refunds.refunded_at at time zone tenants.timezone)::date as occurred_on,
        refunds.changed_at
    from refunds
    inner join payments
        on refunds.tenant_id = payments.tenant_id
        and refunds.payment_id = payments.payment_id
    inner join invoices
        on payments.tenant_id = invoices.tenant_id
        and payments.invoice_id = invoices.invoice_id
    inner join tenants
        on refunds.tenant_id = tenants.tenant_id
),

entries as (
    select * from charges
    union all
    select * from succeeded_payments
    union all
    select * from refunded
),

final as (
    select
        md5(entries.kind || ':' || entries.source_id::text)::uuid as transaction_id,
        entries.tenant_id,
        entries.kind,
        entries.source_id,
        entries.invoice_id,
        entries.customer_id,
        entries.amount_cents,
        entries.occurred_at,
        entries.occurred_on,
        (invoices.status = 'open') as is_open,
        entries.changed_at
    from entries
    inner join invoices
        on entries.tenant_id = invoices.tenant_id
        and entries.invoice_id = invoices.invoice_id
)

select * from final
