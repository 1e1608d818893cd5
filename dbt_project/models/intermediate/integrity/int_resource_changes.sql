-- Every cause that can change a resource's check (int_resources_checked), with when it
-- changed: the resource row itself, or its tenant (macro kw_change_causes).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__resources'), 'resource_id', [
    {'relation': ref('stg_app__tenants'), 'on': 'tenant_id', 'staging': true},
]) }}
