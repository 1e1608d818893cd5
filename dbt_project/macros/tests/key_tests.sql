{#-
    `unique` and `not_null` for PostgreSQL: when the catalog already guarantees the property
    (a valid, non-partial unique index on exactly that column; a NOT NULL column), the test
    checks that guarantee instead of scanning the relation, since PostgreSQL itself rejects
    every violating row. Otherwise, and for expressions, the usual scan runs. Keys of raw
    tables (primary keys) and of the big marts (unique indexes, built with the table) are
    proven this way; a scan of a 3M-row key costs 2-5 s on every build.
-#}
{% macro postgres__test_unique(model, column_name) %}
    {%- if kw_catalog_proves(model, column_name, 'unique') %}
    -- {{ column_name }} is unique by a unique index of {{ model }}: nothing to scan
    select null as unique_field, 0 as n_records where false
    {%- else %}
    {{ dbt.default__test_unique(model, column_name) }}
    {%- endif %}
{% endmacro %}


{% macro postgres__test_not_null(model, column_name) %}
    {%- if kw_catalog_proves(model, column_name, 'not_null') %}
    -- {{ column_name }} is declared NOT NULL in {{ model }}: nothing to scan
    select null where false
    {%- else %}
    {{ dbt.default__test_not_null(model, column_name) }}
    {%- endif %}
{% endmacro %}


{#- True when the catalog enforces `property` (unique | not_null) on a plain column of a table,
    partitioned table or materialized view (a view's rows are never checked by PostgreSQL). -#}
{% macro kw_catalog_proves(model, column_name, property) %}
    {#- a test with a `where` config gets a subquery string, not a relation: scan it -#}
    {%- if not execute or model.identifier is not defined
        or not modules.re.fullmatch('[a-z_][a-z0-9_]*', column_name | lower) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = adapter.quote(model.schema) ~ '.' ~ adapter.quote(model.identifier) -%}
    {%- if property == 'unique' -%}
        {{ return(kw_has_unique_index(relation, [column_name])) }}
    {%- endif -%}
    {%- set column = "(select attnum from pg_attribute where attrelid = target.oid and attname = '"
        ~ (column_name | lower) ~ "' and not attisdropped)" -%}
    {%- set target = "(select oid from pg_class where oid = to_regclass('" ~ relation ~ "') and relkind in ('r', 'p', 'm')) as target" -%}
    {{ return(kw_scalar("select exists (select from " ~ target ~ " join pg_attribute as a on a.attrelid = target.oid "
        ~ "where a.attnum = " ~ column ~ " and a.attnotnull)")) }}
{% endmacro %}
