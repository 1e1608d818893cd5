{#-
    The body of a leaderboard distances CTE: one row per tenant, leaderboard period and `key`
    (customer_id or team_id) with the distance of the `activities` in that period, for every
    period in which the key has activities (`periods`: int_leaderboard_periods).

    Nothing here reads every activity. The week and the month are summed from the activities
    dated since the earlier of their starts (fct_activities' activity_date index: about a
    month of 2-3 years of walks); all_time from `totals` (int_activity_totals, patched by
    customer), less what is dated on or after the period's end (a rerun for a past date; the
    same index). Summing all 3M activities each night cost 1.3-1.5 s at scale 1. `activities`
    and `totals` must hold the same activities (clean, not deleted); `activities` is read
    twice, so a CTE must be declared NOT MATERIALIZED to reach the index.

    The week and month are pivoted into columns, so each recent activity is read once and
    aggregated by key alone. A new period type needs a column here; the accepted_values test
    on int_leaderboard_periods.period_type fails until it has one.
-#}
{% macro kw_period_distances(activities, totals, periods, key) %}
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

    -- scalar subqueries, not a join to bounds: the planner then takes the date range to the index
    recent_activities as (
        select * from {{ activities }}
        where activity_date >= (select least(week_start, month_start) from bounds)
            and activity_date < (select greatest(week_end, month_end) from bounds)
    ),

    recent_totals as (
        select
            recent_activities.tenant_id,
            recent_activities.{{ key }},
            sum(recent_activities.distance_m) filter (
                where recent_activities.activity_date >= bounds.week_start
                    and recent_activities.activity_date < bounds.week_end
            )::bigint as week_m,
            sum(recent_activities.distance_m) filter (
                where recent_activities.activity_date >= bounds.month_start
                    and recent_activities.activity_date < bounds.month_end
            )::bigint as month_m
        from recent_activities
        cross join bounds
        group by recent_activities.tenant_id, recent_activities.{{ key }}
    ),

    all_time_totals as (
        select
            tenant_id,
            {{ key }},
            sum(distance_m)::bigint as all_time_m
        from (
            select tenant_id, {{ key }}, distance_m, activity_count
            from {{ totals }}
            where {{ key }} is not null
            union all
            select tenant_id, {{ key }}, -distance_m, -1
            from {{ activities }}
            where activity_date >= (select all_time_end from bounds)
        ) as counted
        group by tenant_id, {{ key }}
        -- a key whose every activity is dated after the end has no all_time row
        having sum(activity_count) > 0
    ),

    by_period as (
        select
            all_time_totals.tenant_id,
            periods.period_type,
            periods.period_start,
            all_time_totals.{{ key }},
            case periods.period_type
                when 'week' then recent_totals.week_m
                when 'month' then recent_totals.month_m
                when 'all_time' then all_time_totals.all_time_m
            end as distance_m
        from all_time_totals
        left join recent_totals
            on all_time_totals.tenant_id = recent_totals.tenant_id
            and all_time_totals.{{ key }} = recent_totals.{{ key }}
        cross join {{ periods }} as periods
    )

    -- a null sum: no activity of the key in that period
    select * from by_period
    where distance_m is not null
{% endmacro %}
