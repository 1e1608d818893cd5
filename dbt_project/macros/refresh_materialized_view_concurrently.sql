{#-
    dbt-postgres refreshes a materialized view with a plain REFRESH, which holds an ACCESS
    EXCLUSIVE lock for the whole rebuild: every reader waits. REFRESH ... CONCURRENTLY builds
    the new contents aside and applies the difference, so readers keep reading the old rows.
    It needs a unique index on plain columns covering every row: each materialized view of
    this project declares one in its `indexes` config (dbt creates it with the view).
    Overriding the postgres__ implementation in the root project makes dbt's own
    materialized_view materialization use it for every materialized view.
-#}
{% macro postgres__refresh_materialized_view(relation) -%}
    refresh materialized view concurrently {{ relation }}
{%- endmacro %}


{#-
    dbt refreshes an existing materialized view whenever its indexes are unchanged, even when
    the model's SQL has changed (a new deploy; the run date is read from int_run_date), so the
    view would keep answering the old query until a --full-refresh. Each build records the
    md5 of the SQL it was built from in the view's comment; when the SQL differs, the view is
    replaced (dbt's replace: built aside, swapped by rename, in the model's transaction; the
    post-hook then re-creates its `_for_tenant` view). Otherwise dbt's own logic runs.
-#}
{% macro materialized_view_get_build_sql(existing_relation, target_relation, backup_relation, intermediate_relation) %}
    {%- set fingerprint = kw_sql_fingerprint(sql) -%}
    {%- set replace = existing_relation is not none
        and existing_relation.is_materialized_view
        and not should_full_refresh()
        and kw_comment(existing_relation) != fingerprint -%}
    {%- if replace -%}
        {{ log(target_relation ~ ": its SQL changed since it was built; replacing it", info=True) }}
        {%- set build_sql = get_replace_sql(existing_relation, target_relation, sql) -%}
    {%- else -%}
        {%- set build_sql = dbt.materialized_view_get_build_sql(existing_relation, target_relation, backup_relation, intermediate_relation) -%}
    {%- endif -%}
    {%- if build_sql == '' -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(build_sql ~ ";\ncomment on materialized view " ~ target_relation ~ " is '" ~ fingerprint ~ "'") }}
{% endmacro %}
