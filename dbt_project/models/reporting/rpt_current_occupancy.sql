{{ config(
    materialized='materialized_view',
    indexes=[{'columns': ['tenant_id', 'resource_id'], 'unique': True}],
) }}

-- One row per non-deleted resource: is it occupied tonight (the run date), by which stay
-- and pet, until when. With several stays in one resource (capacity > 1) the one leaving
-- last is shown (lower reservation_id on a tie) and occupied_count says how many there are.
-- A materialized view with a unique index: refreshed CONCURRENTLY, readers never wait. The
-- run date comes from int_run_date, not written into this text: a new text would replace
-- the view every night instead of refreshing it.
with

run as (
    select run_date from {{ ref('int_run_date') }}
),

resources as (
    select * from {{ ref('dim_resources') }}
),

stays as (
    select * from {{ ref('fct_reservation_history') }}
),

pets as (
    select * from {{ ref('dim_pets') }}
),

tonight as (
    select
        stays.*,
        count(*) over (partition by stays.tenant_id, stays.resource_id) as occupied_count,
        row_number() over (
            partition by stays.tenant_id, stays.resource_id
            order by stays.end_date desc, stays.reservation_id
        ) as position
    from stays
    where
        stays.is_occupying
        and stays.resource_id is not null
        -- scalar subqueries: the date is known when the scan starts, which prunes the
        -- partitions that begin after it
        and stays.start_date <= (select run_date from run)
        and stays.end_date > (select run_date from run)
),

final as (
    select
        resources.tenant_id,
        resources.resource_id,
        resources.resource_name,
        resources.suite_type,
        resources.capacity,
        (tonight.reservation_id is not null) as is_occupied,
        coalesce(tonight.occupied_count, 0) as occupied_count,
        tonight.reservation_id,
        pets.pet_name,
        tonight.end_date as until_date
    from resources
    left join tonight
        on resources.tenant_id = tonight.tenant_id
        and resources.resource_id = tonight.resource_id
        and tonight.position = 1
    left join pets
        on tonight.tenant_id = pets.tenant_id
        and tonight.pet_id = pets.pet_id
    where not resources.is_deleted
)

select * from final
