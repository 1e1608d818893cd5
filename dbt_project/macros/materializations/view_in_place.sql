{#-
    Override of dbt's view materialization for PostgreSQL. dbt swaps a view by renaming the
    old one and dropping it CASCADE, which silently drops every view built on it: rebuilding
    staging alone (a Dagster subset, `--select stg_...`) would leave the intermediate and
    reporting views gone until the next full build. Here a view whose existing columns are
    kept (same names and types, in order; new ones only appended) is changed in place with
    CREATE OR REPLACE VIEW, so dependants survive; any other change drops and recreates it
    as dbt does. A view already built from the same SQL (its comment carries the SQL's
    fingerprint) with the same columns is left alone: replacing it, even by an identical
    definition, takes an ACCESS EXCLUSIVE lock, so every nightly build would wait for the
    analysts reading it and make every reader after them wait in turn (--full-refresh
    replaces it all the same).
-#}
{% materialization view, adapter='postgres' %}
    {%- set target = this.incorporate(type='view') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set fingerprint = kw_sql_fingerprint(sql) -%}
    {%- set in_place, unchanged = false, false -%}
    {%- if existing is not none and existing.is_view -%}
        {% call statement('probe') %}
            create or replace temporary view kw_view_probe as {{ sql }}
        {% endcall %}
        {%- set old = kw_column_signature(existing) -%}
        {%- set new = kw_column_signature('kw_view_probe') -%}
        {%- set in_place = new == old or new.startswith(old ~ ', ') -%}
        {#- same text, same parents' columns: the same view (a parent rebuilt with other
            columns is a new relation, and this view would have gone with the old one) -#}
        {%- set unchanged = new == old and kw_comment(existing) == fingerprint and not should_full_refresh() -%}
        {% call statement('drop_probe') %}drop view kw_view_probe{% endcall %}
    {%- endif -%}
    {%- if existing is not none and not in_place -%}
        {% do adapter.drop_relation(existing) %}
    {%- endif -%}

    {% call statement('main') -%}
        {%- if unchanged %}
        select 'unchanged: {{ target }}'
        {%- else %}
        create or replace view {{ target }} as (
            {{ sql }}
        );
        comment on view {{ target }} is '{{ fingerprint }}'
        {%- endif %}
    {%- endcall %}

    {%- set should_revoke = should_revoke(existing, full_refresh_mode=True) -%}
    {% do apply_grants(target, grant_config, should_revoke=should_revoke) %}
    {% do persist_docs(target, model) %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}
