{#-
    The body of a leaderboard distances CTE: one row per tenant, leaderboard period and `key`
    (customer_id or team_id) with the distance of the `activities` in that period, for every
    period in which the key has activities (`periods`: int_leaderboard_periods).

    The three periods are pivoted into columns, so each activity is read once and aggregated
    by key alone (a hash aggregate of a few hundred thousand groups). Joining each activity to
    its periods and grouping by period made three rows per activity and sorted all of them on
    disk: at scale 3, 11.2 s against 2.9 s this way, with the same rows. A new period type
    needs a column here; the accepted_values test on int_leaderboard_periods.period_type
    fails until it has one.
-#}
{% macro kw_period_distances(activities, periods, key) %}
    with

    bounds as (
        select
            max(period_start) filter (where period_type = 'week') as week_start,
            max(period_end) filter (where period_type = 'week') as week_end,
            max(period_start) filter (where period_type = 'month') as month_start,
            max(period_end) filter (where period_type = 'month') as month_end,
            max(period_end) filter (where period_type = 'all_time') as all_time_end
        from {{ periods }}
    ),

    totals as (
        select
            activities.tenant_id,
            activities.{{ key }},
            sum(activities.distance_m) filter (
                where activities.activity_date >= bounds.week_start and activities.activity_date < bounds.week_end
            )::bigint as week_m,
            sum(activities.distance_m) filter (
                where activities.activity_date >= bounds.month_start and activities.activity_date < bounds.month_end
            )::bigint as month_m,
            sum(activities.distance_m) filter (where activities.activity_date < bounds.all_time_end)::bigint as all_time_m
        from {{ activities }} as activities
        cross join bounds
        group by activities.tenant_id, activities.{{ key }}
    ),

    by_period as (
        select
            totals.tenant_id,
            periods.period_type,
            periods.period_start,
            totals.{{ key }},
            case periods.period_type
                when 'week' then totals.week_m
                when 'month' then totals.month_m
                when 'all_time' then totals.all_time_m
            end as distance_m
        from totals
        cross join {{ periods }} as periods
    )

    -- a null sum: no activity of the key in that period
    select * from by_period
    where distance_m is not null
{% endmacro %}
