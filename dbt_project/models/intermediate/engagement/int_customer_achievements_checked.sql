-- Every awarded achievement, with the reason it cannot be trusted (null when clean).
with

customer_achievements as (
    select * from {{ ref('stg_app__customer_achievements') }}
),

customers as (
    select * from {{ ref('int_customers_checked') }}
),

achievements as (
    select * from {{ ref('int_achievements_checked') }}
),

checked as (
    select
        customer_achievements.*,
        case
            -- a deleted row stays in its mart (flagged), so its own values and its tenant are
            -- checked first; only its parents' state no longer matters
            when customers.tenant_id <> customer_achievements.tenant_id then 'cross_tenant: customer'
            when achievements.tenant_id <> customer_achievements.tenant_id then 'cross_tenant: achievement'
            when customer_achievements.is_deleted then null
            when customers.customer_id is null then 'orphan: customer missing'
            when customers.is_deleted then 'orphan: customer deleted'
            when customers.quarantine_reason is not null then 'orphan: customer quarantined'
            when achievements.achievement_id is null then 'orphan: achievement missing'
            when achievements.is_deleted then 'orphan: achievement deleted'
            when achievements.quarantine_reason is not null then 'orphan: achievement quarantined'
        end as quarantine_reason
    from customer_achievements
    -- by key alone, to see cross-tenant references
    left join customers
        on customer_achievements.customer_id = customers.customer_id
    left join achievements
        on customer_achievements.achievement_id = achievements.achievement_id
)

select * from checked
