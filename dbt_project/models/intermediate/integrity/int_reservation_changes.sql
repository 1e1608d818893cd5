-- Every cause that can change a reservation's check, with when it changed: the reservation
-- row itself, or its tenant, customer, pet, resource or service. int_reservations_checked
-- re-derives the reservations changed since its last build from this (macro kw_change_causes).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__reservations'), 'reservation_id', [
    {'relation': ref('stg_app__tenants'), 'on': 'tenant_id', 'staging': true},
    {'relation': ref('int_customer_changes'), 'on': 'customer_id'},
    {'relation': ref('int_pet_changes'), 'on': 'pet_id'},
    {'relation': ref('int_resource_changes'), 'on': 'resource_id'},
    {'relation': ref('stg_app__services'), 'on': 'service_id', 'staging': true},
]) }}
