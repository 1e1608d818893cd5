-- Every refund, with the reason it cannot be trusted (null when clean). A refund of a
-- quarantined payment is quarantined too, so no mart row points at a quarantined parent.
-- A negative amount is quarantined as invalid: refund amounts are stored positive.
-- A table patched by key: a build re-derives only the refunds whose row or payment changed
-- (int_refund_changes; rebuilt whole, it took 0.45-0.6 s of every night at scale 1, and
-- dropping it took int_ledger_changes, a view on it, along). The unique key index lets the
-- ledger's patch read just the changed rows (and proves the key's unique test without a
-- scan); the changed_at index serves the ledger's change lookup.
{{ config(
    materialized='patched_by_key',
    unique_key='refund_id',
    changes_from='int_refund_changes',
    indexes=[{'columns': ['refund_id'], 'unique': True}, {'columns': ['changed_at']}],
) }}
-- depends_on: {{ ref('int_refund_changes') }}

with

refunds as (
    select * from {{ ref('stg_app__refunds') }}
),

payments as (
    select * from {{ ref('int_payments_checked') }}
),

checked as (
    select
        refunds.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when refunds.amount_cents < 0 then 'invalid: negative amount_cents'
            when payments.tenant_id <> refunds.tenant_id then 'cross_tenant: payment'
            when refunds.is_deleted then null
            when payments.payment_id is null then 'orphan: payment missing'
            when payments.is_deleted then 'orphan: payment deleted'
            when payments.quarantine_reason is not null then 'orphan: payment quarantined'
        end as quarantine_reason,
        greatest(refunds.extracted_at, refunds.deleted_in_source_at, payments.changed_at) as changed_at
    from refunds
    -- by key alone: see int_invoices_checked
    left join payments
        on refunds.payment_id = payments.payment_id
)

select * from checked
