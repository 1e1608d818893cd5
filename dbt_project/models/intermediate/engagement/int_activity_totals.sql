-- One row per customer and team (no team: null) with the distance, duration and number of
-- that customer's clean, non-deleted activities in that team: what rpt_stats_reconciliation
-- sums per customer and per team. Patched by customer: a build re-derives only the customers
-- whose activities fct_activities patched since the previous build, their old customer too
-- (an activity moved to another customer, or quarantined since), from fct_activities' change
-- log, where the reconciliation read all 3M activities every night (5 s at scale 1, 25 s
-- at scale 3). The patch's filter on customer_id reaches fct_activities' customer index
-- through the grouping.
{{ config(
    materialized='patched_by_key',
    unique_key='customer_id',
    change_logs_of=['fct_activities'],
    indexes=[{'columns': ['customer_id', 'team_id'], 'unique': True}],
) }}

with

activities as (
    select * from {{ ref('fct_activities') }}
    where not is_deleted
),

final as (
    {{ kw_activity_totals('activities') }}
)

select * from final
