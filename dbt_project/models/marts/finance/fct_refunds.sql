-- One row per refund that passed the integrity checks (int_refunds_checked); deleted ones
-- included and flagged by is_deleted, so raw = this mart + quarantined rows.
-- Patched by key: a build re-derives only the rows whose check changed (changed_at).
{{ config(
    materialized='patched_by_key',
    unique_key='refund_id',
    changes_from='int_refunds_checked',
    indexes=[{'columns': ['refund_id'], 'unique': True}],
) }}

with

checked as (
    select * from {{ ref('int_refunds_checked') }}
),

final as (
    select
        refund_id,
        tenant_id,
        payment_id,
        amount_cents,
        reason,
        refunded_at,
        created_at,
        updated_at,
        is_deleted,
        changed_at
    from checked
    where quarantine_reason is null
)

select * from final
