-- One row per customer or team whose stats stored by the app (customer_stats, team_progress)
-- differ from the same figures recomputed the app's way: every live (non-deleted) activity,
-- quarantined or not, because the app counted it when it was recorded; members are the live
-- memberships not yet left. Only clean, live customers and teams are reconciled, and only the
-- differing rows are listed. An entity with activities but no stored row counts as stored 0.
-- Compared: distance, count (activities or members) and, for customers, duration.
-- A nightly build compares again only the customers whose check, stored stats, activity
-- totals or quarantined activities changed since its previous build, from those models'
-- change logs (macros/engagement/reconciliation_changes.sql), and every team.
{{
    config(
        unique_key=['entity', 'entity_id'],
        indexes=[{'columns': ['entity', 'entity_id'], 'unique': True}],
        sync_scope='kw_reconciliation_sync_scope',
        pre_hook="{{ kw_reconciliation_hold_logs() }}",
        post_hook="{{ kw_reconciliation_record() }}",
    )
}}
{%- set previous = kw_reconciliation_previous() %}
{%- set only_changed = "customer_id = any(array(select customer_id from changed_customers))" if previous else "true" %}

with
{%- if previous %}

changed_customers as materialized (
    {{ kw_reconciliation_changed_customers(previous) }}
),
{%- endif %}

stored_customers as (
    select * from {{ ref('int_customer_stats_checked') }}
    where quarantine_reason is null
        and not is_deleted
        and {{ only_changed }}
),

stored_teams as (
    select * from {{ ref('int_team_progress_checked') }}
    where quarantine_reason is null
        and not is_deleted
),

-- The app's totals count every live activity, quarantined or not: the clean ones' totals
-- (patched by customer) plus the quarantined ones, a few percent, read by key each night.
clean_activity_totals as (
    select * from {{ ref('int_activity_totals') }}
),

quarantined_activities as (
    -- a filter, not a join: PostgreSQL does not flatten a view written WITH CTEs (staging), so
    -- a join would seq-scan raw.activities (1.3 s at scale 1 for 300 rows); = any(array(...))
    -- reaches raw's primary key
    select * from {{ ref('stg_app__activities') }}
    where activity_id = any(array(select activity_id from {{ ref('int_activities_quarantined') }}))
        and not is_deleted
),

team_members as (
    select * from {{ ref('int_team_members_checked') }}
    where not is_deleted
        and left_at is null
),

customers as (
    select * from {{ ref('int_customers_checked') }}
    where quarantine_reason is null
        and not is_deleted
        and {{ only_changed }}
),

teams as (
    select * from {{ ref('dim_teams') }}
    where not is_deleted
),

-- Totals per tenant, customer and team (a few hundred thousand rows); the customer and team
-- totals are summed from them. Not materialized: written into both readers, so the
-- customers' filter reaches int_activity_totals' customer index.
activity_totals as not materialized (
    select tenant_id, customer_id, team_id, distance_m, duration_s, activity_count
    from clean_activity_totals
    union all
    {{ kw_activity_totals('quarantined_activities') }}
),

customer_totals as (
    select
        tenant_id,
        customer_id,
        sum(distance_m)::bigint as distance_m,
        sum(duration_s)::bigint as duration_s,
        sum(activity_count)::bigint as activity_count
    from activity_totals
    where {{ only_changed }}
    group by tenant_id, customer_id
),

team_distances as (
    select
        tenant_id,
        team_id,
        sum(distance_m)::bigint as distance_m
    from activity_totals
    where team_id is not null
    group by tenant_id, team_id
),

team_member_counts as (
    select
        tenant_id,
        team_id,
        count(*) as member_count
    from team_members
    group by tenant_id, team_id
),

customers_compared as (
    select
        customers.tenant_id,
        'customer' as entity,
        customers.customer_id as entity_id,
        coalesce(stored_customers.total_distance_m, 0) as stored_distance_m,
        coalesce(customer_totals.distance_m, 0) as recomputed_distance_m,
        coalesce(stored_customers.activity_count, 0)::bigint as stored_count,
        coalesce(customer_totals.activity_count, 0)::bigint as recomputed_count,
        coalesce(stored_customers.total_duration_s, 0) as stored_duration_s,
        coalesce(customer_totals.duration_s, 0) as recomputed_duration_s
    from customers
    left join stored_customers
        on customers.tenant_id = stored_customers.tenant_id
        and customers.customer_id = stored_customers.customer_id
    left join customer_totals
        on customers.tenant_id = customer_totals.tenant_id
        and customers.customer_id = customer_totals.customer_id
    where stored_customers.customer_id is not null
        or customer_totals.customer_id is not null
),

teams_compared as (
    select
        teams.tenant_id,
        'team' as entity,
        teams.team_id as entity_id,
        coalesce(stored_teams.total_distance_m, 0) as stored_distance_m,
        coalesce(team_distances.distance_m, 0) as recomputed_distance_m,
        coalesce(stored_teams.member_count, 0)::bigint as stored_count,
        coalesce(team_member_counts.member_count, 0)::bigint as recomputed_count,
        null::bigint as stored_duration_s,
        null::bigint as recomputed_duration_s
    from teams
    left join stored_teams
        on teams.tenant_id = stored_teams.tenant_id
        and teams.team_id = stored_teams.team_id
    left join team_distances
        on teams.tenant_id = team_distances.tenant_id
        and teams.team_id = team_distances.team_id
    left join team_member_counts
        on teams.tenant_id = team_member_counts.tenant_id
        and teams.team_id = team_member_counts.team_id
),

compared as (
    select * from customers_compared
    union all
    select * from teams_compared
),

final as (
    select
        tenant_id,
        entity,
        entity_id,
        stored_distance_m,
        recomputed_distance_m,
        stored_distance_m - recomputed_distance_m as drift_m,
        stored_count,
        recomputed_count,
        stored_count - recomputed_count as count_drift,
        stored_duration_s,
        recomputed_duration_s
    from compared
    where stored_distance_m <> recomputed_distance_m
        or stored_count <> recomputed_count
        or stored_duration_s <> recomputed_duration_s
)

select * from final
