{{ config(materialized='view', rows_of='fct_reservation_history') }}

-- One row per reservation with resource, customer and pet names and its tier relative to
-- the run date. A view: the tier moves with the date, and rebuilding a million rows every
-- day to move it would cost more than computing it when read. The date is read when the view
-- is queried (int_run_date, through kw_report_run_date), not written into its SQL: a new
-- date would replace the view every night, an ACCESS EXCLUSIVE lock that waits for every
-- analyst reading it and holds up every query after. One row per row of the
-- history (rows_of), joined to the dimensions on their unique keys: once its key test has
-- passed, a nightly build tests the key on the history's logged rows only (test_scope.sql).
-- depends_on: {{ ref('int_run_date') }}
with

stays as (
    select * from {{ ref('fct_reservation_history') }}
),

resources as (
    select * from {{ ref('dim_resources') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

pets as (
    select * from {{ ref('dim_pets') }}
),

final as (
    select
        stays.reservation_id,
        stays.tenant_id,
        stays.start_date,
        stays.end_date,
        stays.nights,
        stays.resource_id,
        resources.resource_name,
        stays.suite_type,
        stays.customer_id,
        concat_ws(' ', customers.first_name, customers.last_name) as customer_name,
        stays.pet_id,
        pets.pet_name,
        stays.status,
        stays.is_deleted,
        {{ calendar_tier('stays.start_date', 'stays.end_date', kw_report_run_date()) }} as tier
    from stays
    left join resources
        on stays.tenant_id = resources.tenant_id
        and stays.resource_id = resources.resource_id
    left join customers
        on stays.tenant_id = customers.tenant_id
        and stays.customer_id = customers.customer_id
    left join pets
        on stays.tenant_id = pets.tenant_id
        and stays.pet_id = pets.pet_id
)

select * from final
