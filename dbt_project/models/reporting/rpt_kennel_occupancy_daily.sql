-- One row per tenant, suite type and date, from one year before the run date to 90 days
-- after it. occupied: stays occupying that night (start_date <= date < end_date; cancelled,
-- no_show and deleted stays occupy nothing); stays whose suite type cannot be determined
-- count under 'unmatched'. capacity: summed capacity of the tenant's active, non-deleted
-- resources of that type today (resource history is not kept, so past days use today's).
{{ config(unique_key=['tenant_id', 'suite_type', 'date'], indexes=[{'columns': ['tenant_id', 'suite_type', 'date'], 'unique': True}]) }}

with

stays as (
    select * from {{ ref('fct_reservation_history') }}
),

resources as (
    select * from {{ ref('dim_resources') }}
),

bounds as (
    select
        ({{ run_date() }} - interval '1 year')::date as first_date,
        ({{ run_date() }} + interval '90 days')::date as last_date
),

spine as (
    select day::date as date
    from bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval '1 day') as day
),

occupying_stays as (
    select stays.*
    from stays
    cross join bounds
    where
        stays.is_occupying
        and stays.start_date <= bounds.last_date
        and stays.end_date > bounds.first_date
),

nights as (
    select
        occupying_stays.tenant_id,
        occupying_stays.suite_type,
        night::date as date
    from occupying_stays
    cross join bounds
    cross join generate_series(
        greatest(occupying_stays.start_date, bounds.first_date),
        least(occupying_stays.end_date - 1, bounds.last_date),
        interval '1 day'
    ) as night
),

occupied as (
    select
        tenant_id,
        suite_type,
        date,
        count(*) as occupied
    from nights
    group by tenant_id, suite_type, date
),

capacity as (
    select
        tenant_id,
        suite_type,
        sum(capacity) as capacity
    from resources
    where is_bookable
    group by tenant_id, suite_type
),

suite_types as (
    select tenant_id, suite_type from capacity
    union
    select distinct tenant_id, suite_type from occupied
),

final as (
    select
        suite_types.tenant_id,
        spine.date,
        suite_types.suite_type,
        coalesce(capacity.capacity, 0)::bigint as capacity,
        coalesce(occupied.occupied, 0)::bigint as occupied,
        round(occupied.occupied::numeric / nullif(capacity.capacity, 0), 4) as occupancy_rate
    from suite_types
    cross join spine
    left join capacity
        on suite_types.tenant_id = capacity.tenant_id
        and suite_types.suite_type = capacity.suite_type
    left join occupied
        on suite_types.tenant_id = occupied.tenant_id
        and suite_types.suite_type = occupied.suite_type
        and spine.date = occupied.date
)

select * from final
