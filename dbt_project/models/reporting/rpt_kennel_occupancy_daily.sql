-- One row per tenant, suite type and date, from one year before the run date to 90 days
-- after it. occupied: stays occupying that night (start_date <= date < end_date; cancelled,
-- no_show and deleted stays occupy nothing); stays whose suite type cannot be determined
-- count under 'unmatched'. capacity: summed capacity of the tenant's active, non-deleted
-- resources of that type today (resource history is not kept, so past days use today's).
-- occupancy_rate is occupied / capacity: 0 on a day with capacity and no stay, null
-- without capacity. Every suite type with capacity has a row for every day; one without
-- has rows while a stay of that type is in the window.
-- A nightly build does not count the window again: it adds the history's changes since the
-- previous build to the counts the table holds, counts only the nights new to the window,
-- and returns only the rows that change (macros/boarding/occupancy.sql: when, and why the
-- counts stay exact).
{{
    config(
        unique_key=['tenant_id', 'suite_type', 'date'],
        indexes=[{'columns': ['tenant_id', 'suite_type', 'date'], 'unique': True}],
        sync_scope='kw_occupancy_sync_scope',
        pre_hook="{{ kw_occupancy_hold_log() }}",
        post_hook="{{ kw_occupancy_record() }}",
    )
}}
{%- set previous = kw_occupancy_previous() %}
{#- the last day of the window the table holds, and the first day new to this one -#}
{%- set held_last_day = kw_occupancy_last_day("'" ~ previous.run_date ~ "'::date") if previous else none %}
{%- set first_new_day = "(" ~ held_last_day ~ " + 1)" if previous else none %}

with

stays as (
    select * from {{ ref('fct_reservation_history') }}
),

bounds as (
    select
        {{ kw_occupancy_first_day(run_date()) }} as first_date,
        {{ kw_occupancy_last_day(run_date()) }} as last_date
),

capacity as (
    {{ kw_suite_type_capacity() }}
),

{%- if previous %}

-- The history's changes since the previous build: each row it deleted (-1) or inserted (+1),
-- added up per night the window had then and has still.
logged_changes as (
    select logged.tenant_id, logged.suite_type, logged.start_date, logged.end_date, logged.sign
    from {{ kw_log_reader_entries(kw_occupancy_log(), previous) }} as logged
    where
        logged.is_occupying
        and logged.end_date > logged.start_date
),

night_changes as (
    select
        logged_changes.tenant_id,
        logged_changes.suite_type,
        night::date as date,
        sum(logged_changes.sign) as change
    from logged_changes
    cross join bounds
    cross join generate_series(
        greatest(logged_changes.start_date, bounds.first_date),
        least(logged_changes.end_date - 1, {{ held_last_day }}),
        interval '1 day'
    ) as night
    group by logged_changes.tenant_id, logged_changes.suite_type, night
    having sum(logged_changes.sign) <> 0
),

rewritten_suite_types as materialized (
    {{ kw_occupancy_rewritten_suite_types(previous) }}
),

-- the counts the table holds for the nights that changed and for the suite types rewritten whole
counted_before as (
    select counted.tenant_id, counted.suite_type, counted.date, counted.occupied
    from {{ this }} as counted
    cross join bounds
    where
        counted.date >= bounds.first_date
        and (
            (counted.tenant_id, counted.suite_type) in (select tenant_id, suite_type from rewritten_suite_types)
            or (counted.tenant_id, counted.suite_type, counted.date) in (select tenant_id, suite_type, date from night_changes)
        )
),

counted_again as (
    select
        coalesce(counted_before.tenant_id, night_changes.tenant_id) as tenant_id,
        coalesce(counted_before.suite_type, night_changes.suite_type) as suite_type,
        coalesce(counted_before.date, night_changes.date) as date,
        coalesce(counted_before.occupied, 0) + coalesce(night_changes.change, 0) as occupied
    from counted_before
    full join night_changes
        on counted_before.tenant_id = night_changes.tenant_id
        and counted_before.suite_type = night_changes.suite_type
        and counted_before.date = night_changes.date
),

-- the nights new to the window, from the stays that can reach them: a stay occupying night d
-- started after d - max_nights (the longest stay, the log's new ones included)
new_nights as (
    select * from ({{ kw_nights_counted(
        "(select * from " ~ ref('fct_reservation_history') ~ " where start_date >= " ~ first_new_day
            ~ " - (select greatest(" ~ previous.max_nights ~ ", max(end_date - start_date)) from logged_changes where sign = 1))",
        "greatest((select first_date from bounds), " ~ first_new_day ~ ")",
        "(select last_date from bounds)") }}) as new_nights
),

counted as (
    select tenant_id, suite_type, date, occupied from counted_again
    union all
    select tenant_id, suite_type, date, occupied from new_nights
),

-- rewritten whole: those above, and suite types without capacity that have a stay now
whole_suite_types as (
    select tenant_id, suite_type from rewritten_suite_types
    union
    select counted.tenant_id, counted.suite_type
    from counted
    left join capacity
        on counted.tenant_id = capacity.tenant_id
        and counted.suite_type = capacity.suite_type
    where capacity.tenant_id is null
),

-- the rows this build returns: every day of a suite type rewritten whole (one without
-- capacity only while a stay is in the window), the new days of the others, the changed nights
grid as materialized (
    select whole.tenant_id, whole.suite_type, day::date as date
    from whole_suite_types as whole
    cross join bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval '1 day') as day
    where
        exists (
            select from capacity
            where capacity.tenant_id = whole.tenant_id and capacity.suite_type = whole.suite_type
        )
        or exists (
            select from counted
            where counted.tenant_id = whole.tenant_id and counted.suite_type = whole.suite_type and counted.occupied > 0
        )
    union
    select capacity.tenant_id, capacity.suite_type, day::date
    from capacity
    cross join bounds
    cross join generate_series(greatest(bounds.first_date, {{ first_new_day }}), bounds.last_date, interval '1 day') as day
    union
    select tenant_id, suite_type, date from night_changes
    where (tenant_id, suite_type) not in (select tenant_id, suite_type from whole_suite_types)
),

{%- else %}

counted as (
    select * from ({{ kw_nights_counted('stays', '(select first_date from bounds)', '(select last_date from bounds)') }}) as counted
),

-- every suite type with capacity or with a stay in the window
suite_types as (
    select tenant_id, suite_type from capacity
    union
    select tenant_id, suite_type from counted where occupied > 0
),

-- Every tenant, suite type and day of the window (materialized: see kw_nights_counted).
grid as materialized (
    select suite_types.tenant_id, suite_types.suite_type, day::date as date
    from suite_types
    cross join bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval '1 day') as day
),

{%- endif %}

final as (
    select
        grid.tenant_id,
        grid.date,
        grid.suite_type,
        coalesce(capacity.capacity, 0)::bigint as capacity,
        coalesce(counted.occupied, 0)::bigint as occupied,
        round(coalesce(counted.occupied, 0)::numeric / nullif(capacity.capacity, 0), 4) as occupancy_rate
    from grid
    left join counted
        on grid.tenant_id = counted.tenant_id
        and grid.suite_type = counted.suite_type
        and grid.date = counted.date
    left join capacity
        on grid.tenant_id = capacity.tenant_id
        and grid.suite_type = capacity.suite_type
)

select * from final
