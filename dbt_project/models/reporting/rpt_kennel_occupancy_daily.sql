-- One row per tenant, suite type and date, from one year before the run date to 90 days
-- after it. occupied: stays occupying that night (start_date <= date < end_date; cancelled,
-- no_show and deleted stays occupy nothing); stays whose suite type cannot be determined
-- count under 'unmatched'. capacity: summed capacity of the tenant's active, non-deleted
-- resources of that type today (resource history is not kept, so past days use today's).
-- occupancy_rate is occupied / capacity: 0 on a day with capacity and no stay, null
-- without capacity.
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
        and stays.end_date > stays.start_date  -- a stay of no night occupies nothing
        and stays.start_date <= bounds.last_date
        and stays.end_date > bounds.first_date
),

-- A stay adds one at its first night in the window and takes it away on its check-out day;
-- the running sum of these changes, day by day, counts the stays of every night without
-- expanding each stay into its nights (two rows per stay instead of one per night; at
-- scale 3 the query takes 2.5 s instead of 3.8 s).
night_count_changes as (
    select
        occupying_stays.tenant_id,
        occupying_stays.suite_type,
        change.date,
        change.change
    from occupying_stays
    cross join bounds
    cross join lateral (
        values
            (greatest(occupying_stays.start_date, bounds.first_date), 1),
            (case when occupying_stays.end_date <= bounds.last_date then occupying_stays.end_date end, -1)
    ) as change (date, change)
    where change.date is not null
),

daily_changes as (
    select
        tenant_id,
        suite_type,
        date,
        sum(change) as change
    from night_count_changes
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
    select distinct tenant_id, suite_type from daily_changes
),

-- Every tenant, suite type and day of the window. Materialized: inlined, the planner merged
-- it with daily_changes on tenant and suite type alone and compared the dates of 140M pairs
-- (25 s at scale 3); as a relation of its own it joins on all three columns.
grid as materialized (
    select
        suite_types.tenant_id,
        suite_types.suite_type,
        spine.date
    from suite_types
    cross join spine
),

occupied as (
    select
        grid.tenant_id,
        grid.suite_type,
        grid.date,
        sum(coalesce(daily_changes.change, 0)) over (
            partition by grid.tenant_id, grid.suite_type
            order by grid.date
            rows unbounded preceding
        ) as occupied
    from grid
    left join daily_changes
        on grid.tenant_id = daily_changes.tenant_id
        and grid.suite_type = daily_changes.suite_type
        and grid.date = daily_changes.date
),

final as (
    select
        occupied.tenant_id,
        occupied.date,
        occupied.suite_type,
        coalesce(capacity.capacity, 0)::bigint as capacity,
        occupied.occupied::bigint as occupied,
        round(occupied.occupied::numeric / nullif(capacity.capacity, 0), 4) as occupancy_rate
    from occupied
    left join capacity
        on occupied.tenant_id = capacity.tenant_id
        and occupied.suite_type = capacity.suite_type
)

select * from final
