{#-
    Input of reporting.rpt_leaderboard_customers: one row per tenant, period type and
    customer with the distance walked in the period. Synced row by row (strategy sync) rather
    than rebuilt, so the materialized view on top is never dropped with it and can be
    refreshed CONCURRENTLY. Only clean, non-deleted activities count; activities of deleted
    customers were quarantined (int_activities_checked), so those customers are absent.
    display_name is first name + last initial: no e-mail or phone reaches reporting.
    all_time comes from int_activity_totals, the week and month from the recent activities
    (macro kw_period_distances), so a build does not read every activity. A nightly build
    re-derives only the customers whose rows can have changed and writes only their rows
    (macros/engagement/leaderboard_changes.sql); a new week or month recomputes everyone.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='sync',
        unique_key=['tenant_id', 'period_type', 'customer_id'],
        indexes=[{'columns': ['tenant_id', 'period_type', 'customer_id'], 'unique': True}],
        sync_scope='kw_leaderboard_sync_scope',
        pre_hook="{{ kw_leaderboard_hold_logs() }}",
        post_hook="{{ kw_leaderboard_record() }}",
    )
}}
{%- set previous = kw_leaderboard_previous() %}
{%- set only_changed = ("customer_id = any(array(select customer_id from changed_customers))") if previous else "true" %}

with
{%- if previous %}

changed_customers as materialized (
    {{ kw_leaderboard_changed_customers(previous) }}
),
{%- endif %}

-- not materialized: read twice, each time for a date range through the activity_date index
-- (a CTE read twice is otherwise materialized: all 3M activities written out first)
activities as not materialized (
    select * from {{ ref('fct_activities') }}
    where not is_deleted and {{ only_changed }}
),

customers as (
    select * from {{ ref('dim_customers') }}
    where {{ only_changed }}
),

activity_totals as (
    select * from {{ ref('int_activity_totals') }}
    where {{ only_changed }}
),

periods as (
    select * from {{ ref('int_leaderboard_periods') }}
),

distances as (
    {{ kw_period_distances('activities', 'activity_totals', 'periods', 'customer_id') }}
),

final as (
    select
        distances.tenant_id,
        distances.period_type,
        distances.period_start,
        distances.customer_id,
        customers.first_name || ' ' || left(customers.last_name, 1) || '.' as display_name,
        distances.distance_m
    from distances
    inner join customers
        on distances.tenant_id = customers.tenant_id
        and distances.customer_id = customers.customer_id
)

select * from final
