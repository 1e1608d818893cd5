-- One row per leaderboard period, relative to var run_date: the week (ISO, from Monday) and
-- the month containing run_date, and all_time (period_start null). Every period ends with
-- run_date itself (period_end exclusive), so a rerun for a past date is reproducible.
with

periods as (
    select
        period_type,
        period_start,
        ({{ run_date() }} + 1) as period_end
    from (
        values
            ('week', date_trunc('week', {{ run_date() }})::date),
            ('month', date_trunc('month', {{ run_date() }})::date),
            ('all_time', null::date)
    ) as periods (period_type, period_start)
)

select * from periods
