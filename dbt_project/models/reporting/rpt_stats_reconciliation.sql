-- One row per customer or team whose stored stats (customer_stats, team_progress, kept by the
-- app) differ from the figures recomputed from the warehouse: distance of clean, non-deleted
-- activities; count = activities (customers) or current members (teams). An entity with
-- activities but no stored row counts as stored 0, and the reverse. Only differing rows.
with

stored_customers as (
    select * from {{ ref('int_customer_stats_checked') }}
    where quarantine_reason is null
        and not is_deleted
),

stored_teams as (
    select * from {{ ref('int_team_progress_checked') }}
    where quarantine_reason is null
        and not is_deleted
),

activities as (
    select * from {{ ref('fct_activities') }}
    where not is_deleted
),

team_members as (
    select * from {{ ref('int_team_members_checked') }}
    where quarantine_reason is null
        and not is_deleted
        and left_at is null
),

teams as (
    select * from {{ ref('dim_teams') }}
    where not is_deleted
),

customer_totals as (
    select
        tenant_id,
        customer_id,
        sum(distance_m)::bigint as distance_m,
        count(*) as activity_count
    from activities
    group by tenant_id, customer_id
),

team_distances as (
    select
        tenant_id,
        team_id,
        sum(distance_m)::bigint as distance_m
    from activities
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

team_totals as (
    select
        teams.tenant_id,
        teams.team_id,
        coalesce(team_distances.distance_m, 0) as distance_m,
        coalesce(team_member_counts.member_count, 0) as member_count
    from teams
    left join team_distances
        on teams.tenant_id = team_distances.tenant_id
        and teams.team_id = team_distances.team_id
    left join team_member_counts
        on teams.tenant_id = team_member_counts.tenant_id
        and teams.team_id = team_member_counts.team_id
),

customers_compared as (
    select
        coalesce(stored_customers.tenant_id, customer_totals.tenant_id) as tenant_id,
        'customer' as entity,
        coalesce(stored_customers.customer_id, customer_totals.customer_id) as entity_id,
        coalesce(stored_customers.total_distance_m, 0) as stored_distance_m,
        coalesce(customer_totals.distance_m, 0) as recomputed_distance_m,
        coalesce(stored_customers.activity_count, 0)::bigint as stored_count,
        coalesce(customer_totals.activity_count, 0)::bigint as recomputed_count
    from stored_customers
    full outer join customer_totals
        on stored_customers.tenant_id = customer_totals.tenant_id
        and stored_customers.customer_id = customer_totals.customer_id
),

teams_compared as (
    select
        coalesce(stored_teams.tenant_id, team_totals.tenant_id) as tenant_id,
        'team' as entity,
        coalesce(stored_teams.team_id, team_totals.team_id) as entity_id,
        coalesce(stored_teams.total_distance_m, 0) as stored_distance_m,
        coalesce(team_totals.distance_m, 0) as recomputed_distance_m,
        coalesce(stored_teams.member_count, 0)::bigint as stored_count,
        coalesce(team_totals.member_count, 0)::bigint as recomputed_count
    from stored_teams
    full outer join team_totals
        on stored_teams.tenant_id = team_totals.tenant_id
        and stored_teams.team_id = team_totals.team_id
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
        stored_count - recomputed_count as count_drift
    from compared
    where stored_distance_m <> recomputed_distance_m
        or stored_count <> recomputed_count
)

select * from final
