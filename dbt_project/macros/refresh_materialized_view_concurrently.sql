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
