-- Every row a ledger entry can come from (invoice -> charge, payment, refund), with the
-- latest extraction of anything the entry depends on: int_financial_transactions re-derives
-- the entries of the sources changed since its last build. Rows that make no entry
-- (quarantined, deleted, failed payments) are here too, so an entry that must disappear is
-- found as well. source_id is globally unique across the three tables (uuids).
{{ config(materialized='view') }}

select invoice_id as source_id, changed_at from {{ ref('int_invoices_checked') }}
union all
select payment_id, changed_at from {{ ref('int_payments_checked') }}
union all
select refund_id, changed_at from {{ ref('int_refunds_checked') }}
