-- Every invoice line, with the reason it cannot be trusted (null when clean). A line of a
-- quarantined invoice is quarantined too, so no mart row points at a quarantined parent.
-- A view, unlike its neighbours: no mart is built from invoice lines; its one reader,
-- int_invoice_lines_quarantined, reads just the changed keys through it.
{{ config(materialized='view') }}

with

invoice_lines as (
    select * from {{ ref('stg_app__invoice_lines') }}
),

invoices as (
    select * from {{ ref('int_invoices_checked') }}
),

checked as (
    select
        invoice_lines.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when invoices.tenant_id <> invoice_lines.tenant_id then 'cross_tenant: invoice'
            when invoice_lines.is_deleted then null
            when invoices.invoice_id is null then 'orphan: invoice missing'
            when invoices.is_deleted then 'orphan: invoice deleted'
            when invoices.quarantine_reason is not null then 'orphan: invoice quarantined'
        end as quarantine_reason
    from invoice_lines
    -- by key alone: see int_invoices_checked
    left join invoices
        on invoice_lines.invoice_id = invoices.invoice_id
)

select * from checked
