{#- The totals of `activities` per tenant, customer and team, as int_activity_totals keeps
    them for the clean walks and rpt_stats_reconciliation adds them for the quarantined ones:
    one rule for both halves of the app's count. -#}
{% macro kw_activity_totals(activities) %}
    select
        tenant_id,
        customer_id,
        team_id,
        sum(distance_m)::bigint as distance_m,
        sum(duration_s)::bigint as duration_s,
        count(*) as activity_count
    from {{ activities }}
    group by tenant_id, customer_id, team_id
{% endmacro %}
