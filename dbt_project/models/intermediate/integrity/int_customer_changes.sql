-- Every cause that can change a customer's check (int_customers_checked), with when it
-- changed: the customer row itself, or its tenant. The changes views of the customer's
-- children read this, not the check's changed_at, which only a scan of every customer
-- computes (macro kw_change_causes).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__customers'), 'customer_id', [
    {'relation': ref('stg_app__tenants'), 'on': 'tenant_id', 'staging': true},
]) }}
