-- One row per non-deleted customer with the ids, names and species of their non-deleted
-- pets as arrays in the same order (by pet name, then id); empty arrays when none.
{{ config(unique_key='customer_id', indexes=[{'columns': ['customer_id'], 'unique': True}]) }}

with

customers as (
    select * from {{ ref('dim_customers') }}
),

pets as (
    select * from {{ ref('dim_pets') }}
),

pets_per_customer as (
    select
        tenant_id,
        customer_id,
        array_agg(pet_id order by pet_name, pet_id) as pet_ids,
        array_agg(pet_name order by pet_name, pet_id) as pet_names,
        array_agg(species order by pet_name, pet_id) as pet_species
    from pets
    where not is_deleted
    group by tenant_id, customer_id
),

final as (
    select
        customers.customer_id,
        customers.tenant_id,
        customers.first_name,
        customers.last_name,
        coalesce(pets_per_customer.pet_ids, '{}') as pet_ids,
        coalesce(pets_per_customer.pet_names, '{}') as pet_names,
        coalesce(pets_per_customer.pet_species, '{}') as pet_species
    from customers
    left join pets_per_customer
        on customers.tenant_id = pets_per_customer.tenant_id
        and customers.customer_id = pets_per_customer.customer_id
    where not customers.is_deleted
)

select * from final
