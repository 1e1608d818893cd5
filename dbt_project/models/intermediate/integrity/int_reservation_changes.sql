-- Every cause that can change a reservation's check, with when it changed: the reservation
-- row itself, or its tenant, customer, pet, resource or service. int_reservations_checked
-- re-derives the reservations changed since its last build from this; a build's filter on
-- changed_at reaches each branch's parent first, so only the few changed parents are joined
-- to the reservations (a scan of the keys), not the whole check evaluated.
{{ config(materialized='view') }}

with

reservations as not materialized (
    select * from {{ ref('stg_app__reservations') }}
),

causes as (
    select reservation_id, greatest(extracted_at, deleted_in_source_at) as changed_at
    from reservations
    union all
    select reservations.reservation_id, greatest(tenants.extracted_at, tenants.deleted_in_source_at)
    from reservations
    inner join {{ ref('stg_app__tenants') }} as tenants
        on reservations.tenant_id = tenants.tenant_id
    union all
    select reservations.reservation_id, customers.changed_at
    from reservations
    inner join {{ ref('int_customers_checked') }} as customers
        on reservations.customer_id = customers.customer_id
    union all
    select reservations.reservation_id, pets.changed_at
    from reservations
    inner join {{ ref('int_pets_checked') }} as pets
        on reservations.pet_id = pets.pet_id
    union all
    select reservations.reservation_id, resources.changed_at
    from reservations
    inner join {{ ref('int_resources_checked') }} as resources
        on reservations.resource_id = resources.resource_id
    union all
    select reservations.reservation_id, greatest(services.extracted_at, services.deleted_in_source_at)
    from reservations
    inner join {{ ref('stg_app__services') }} as services
        on reservations.service_id = services.service_id
)

select * from causes
