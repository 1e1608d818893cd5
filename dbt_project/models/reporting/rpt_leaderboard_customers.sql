{#-
    One row per tenant, period and customer: distance walked and rank. A materialized view
    refreshed CONCURRENTLY (macro postgres__refresh_materialized_view), which needs the unique
    index below. rank() ordered by distance, then by the lower customer_id, so a tie is
    broken the same way on every refresh. period_start is null for all_time.
-#}
{{
    config(
        materialized='materialized_view',
        indexes=[{'columns': ['tenant_id', 'period_type', 'customer_id'], 'unique': True}],
    )
}}

with

distances as (
    select * from {{ ref('int_leaderboard_customer_distances') }}
),

final as (
    select
        tenant_id,
        period_type,
        period_start,
        customer_id,
        display_name,
        distance_m,
        rank() over (
            partition by tenant_id, period_type
            order by distance_m desc, customer_id
        ) as rank
    from distances
)

select * from final
