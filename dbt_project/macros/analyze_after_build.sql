{#-
    The post-hook `{{ kw_analyze() }}`: ANALYZE a table right after its build, so the next
    model (seconds later, long before autovacuum) plans with statistics of the new rows;
    without them the planner chose a nested loop over the invoice check (89 s vs 0.5 s).
    Only when the build changed as many rows as autovacuum waits for before it analyzes
    (50 rows + 10 % of the table, the autovacuum_analyze_* defaults), or the table has no
    estimate at all. A patch of a few keys, or a day's rows appended to the archive, leaves
    statistics that still describe the table: sampling the big tables anyway cost 0.15-0.4 s
    each, seconds of every nightly build. Smaller changes that add up are autovacuum's to
    analyze. The build's own changes are counted (pg_stat_get_xact_*): pg_stat_user_tables
    has them only after the commit, and there an ANALYZE inside the build's transaction
    leaves them counted as not analyzed yet. Views have nothing to analyze.
-#}
{% macro kw_analyze(relation=this) -%}
    {%- if execute and config.get('materialized') != 'view' and kw_changed_enough_to_analyze(relation) -%}
    analyze {{ relation }}
    {%- endif -%}
{%- endmacro %}


{% macro kw_changed_enough_to_analyze(relation) %}
    {{ return(kw_scalar(
        "select reltuples < 0 or pg_stat_get_xact_tuples_inserted(oid) + pg_stat_get_xact_tuples_updated(oid)"
        ~ " + pg_stat_get_xact_tuples_deleted(oid) >= 50 + 0.1 * reltuples"
        ~ " from pg_class where oid = '" ~ relation ~ "'::regclass")) }}
{% endmacro %}
