-- Every pet, with the reason it cannot be trusted (null when clean): its customer is
-- missing, in another tenant, soft-deleted or itself quarantined.
-- A table patched by key (int_pet_changes: the pet's row or its customer's check changed),
-- for the same reason as int_customers_checked: as a view (CTEs, never flattened) every
-- reader looking pets up by key hashed all of them with their customers (70-116 ms at scale
-- 1, in the activity and reservation checks' patches and dq.quarantined_rows).
{{ config(
    materialized='patched_by_key',
    unique_key='pet_id',
    changes_from='int_pet_changes',
    indexes=[{'columns': ['pet_id'], 'unique': True}, {'columns': ['quarantine_reason']}],
    post_hook=['{{ kw_analyze() }}'],
) }}
-- depends_on: {{ ref('int_pet_changes') }}

with

pets as (
    select * from {{ ref('stg_app__pets') }}
),

customers as (
    select * from {{ ref('int_customers_checked') }}
),

checked as (
    select
        pets.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when customers.tenant_id <> pets.tenant_id then 'cross_tenant: customer'
            when pets.is_deleted then null
            when customers.customer_id is null then 'orphan: customer missing'
            when customers.is_deleted then 'orphan: customer deleted'
            when customers.quarantine_reason is not null then 'orphan: customer quarantined'
        end as quarantine_reason,
        greatest(pets.extracted_at, pets.deleted_in_source_at, customers.changed_at) as changed_at
    from pets
    -- by key alone (ids are globally unique): a tenant-scoped join could not see a
    -- parent that sits in another tenant, which is exactly what this model must find
    left join customers
        on pets.customer_id = customers.customer_id
)

select * from checked
