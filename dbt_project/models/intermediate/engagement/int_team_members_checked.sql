-- Every team membership, with the reason it cannot be trusted (null when clean). Parents are
-- looked up by key alone, not by (tenant_id, key): a parent that exists in another tenant is
-- exactly what the cross_tenant check must see.
with

team_members as (
    select * from {{ ref('stg_app__team_members') }}
),

teams as (
    select * from {{ ref('int_teams_checked') }}
),

customers as (
    select * from {{ ref('int_customers_checked') }}
),

checked as (
    select
        team_members.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when teams.tenant_id <> team_members.tenant_id then 'cross_tenant: team'
            when customers.tenant_id <> team_members.tenant_id then 'cross_tenant: customer'
            when team_members.is_deleted then null
            when teams.team_id is null then 'orphan: team missing'
            when teams.is_deleted then 'orphan: team deleted'
            when teams.quarantine_reason is not null then 'orphan: team quarantined'
            when customers.customer_id is null then 'orphan: customer missing'
            when customers.is_deleted then 'orphan: customer deleted'
            when customers.quarantine_reason is not null then 'orphan: customer quarantined'
        end as quarantine_reason
    from team_members
    left join teams
        on team_members.team_id = teams.team_id
    left join customers
        on team_members.customer_id = customers.customer_id
)

select * from checked
