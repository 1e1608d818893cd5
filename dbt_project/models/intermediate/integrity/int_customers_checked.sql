-- Every customer, with the reason it cannot be trusted (null when clean).
-- Deleted rows count in no figure, so they are never quarantined.
-- A table patched by key (int_customer_changes), not a view: its readers look customers up
-- by key (the pet, activity, reservation and stats checks, in patches of a few thousand
-- rows), and PostgreSQL never flattens a view written with CTEs into the query that joins
-- it, so each of them hashed every customer (25 ms at scale 1, growing with the customers);
-- a table's key index serves those lookups. quarantine_reason: read by dq.quarantined_rows.
{{ config(
    materialized='patched_by_key',
    unique_key='customer_id',
    changes_from='int_customer_changes',
    indexes=[{'columns': ['customer_id'], 'unique': True}, {'columns': ['quarantine_reason']}],
    post_hook=['{{ kw_analyze() }}'],
) }}
-- depends_on: {{ ref('int_customer_changes') }}

with

customers as (
    select * from {{ ref('stg_app__customers') }}
),

tenants as (
    select * from {{ ref('stg_app__tenants') }}
),

checked as (
    select
        customers.*,
        case
            when customers.is_deleted then null
            when tenants.tenant_id is null then 'orphan: tenant missing'
        end as quarantine_reason,
        -- the tenant's extraction too: a tenant that appears late ends 'orphan: tenant missing'
        greatest(customers.extracted_at, customers.deleted_in_source_at, tenants.extracted_at) as changed_at
    from customers
    left join tenants
        on customers.tenant_id = tenants.tenant_id
)

select * from checked
