{#- dbt's `accepted_values` for PostgreSQL: when the table declares CHECK (column = any
    (array[values]::text[])) with exactly the test's values (tested_not_null.sql), PostgreSQL
    rejects every other value itself: the test checks that guarantee instead of scanning
    (key_tests.sql: kw_catalog_proves). Otherwise, and for unquoted values, dbt's own test. -#}
{% macro postgres__test_accepted_values(model, column_name, values, quote=True) %}
    {%- if quote is sameas true and values | reject('string') | list | length == 0
        and kw_catalog_proves(model, column_name, 'accepted_values', values) %}
    -- {{ column_name }} is declared CHECK ({{ column_name }} = any (...)) in {{ model }}: nothing to scan
    select null as value_field, 0 as n_records where false
    {%- else %}
    {{ dbt.default__test_accepted_values(model, column_name, values, quote) }}
    {%- endif %}
{% endmacro %}
