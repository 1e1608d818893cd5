{#-
    The post-hook `{{ kw_analyze() }}`: ANALYZE a table right after its build, so the next
    model (seconds later, long before autovacuum) plans with statistics of the new rows;
    without them the planner chose a nested loop over the invoice check (89 s vs 0.5 s).
    Not after a patch of under 10 % of a patched_by_key table's rows: its statistics still
    describe it, and autovacuum re-analyzes it at that same 10 % (autovacuum_analyze_scale_factor);
    sampling the big marts cost 0.15-0.4 s each, about 2 s of every nightly build. Views have
    nothing to analyze.
-#}
{% macro kw_analyze(relation=this) -%}
    {%- set materialized = config.get('materialized') -%}
    {%- set skip = materialized == 'view' -%}
    {%- if execute and materialized == 'patched_by_key' -%}
        {%- set patched = modules.re.search('patched keys=([0-9]+)', kw_comment(relation) or '') -%}
        {%- set skip = patched is not none and (patched.group(1) | int)
            < 0.1 * (kw_scalar("select reltuples from pg_class where oid = '" ~ relation ~ "'::regclass") | float) -%}
    {%- endif -%}
    {%- if not skip -%}
    analyze {{ relation }}
    {%- endif -%}
{%- endmacro %}
