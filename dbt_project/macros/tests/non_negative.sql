{#- Generic test: fails on every row where the column is negative. When the table declares
    CHECK (column >= 0) (tested_not_null.sql), PostgreSQL rejects every such row itself: the
    test checks that guarantee instead of scanning (key_tests.sql: kw_catalog_proves). -#}
{% test non_negative(model, column_name) %}
    {%- if kw_catalog_proves(model, column_name, 'non_negative') %}
    -- {{ column_name }} is declared CHECK ({{ column_name }} >= 0) in {{ model }}: nothing to scan
    select null where false
    {%- else %}
    select * from {{ model }} where {{ column_name }} < 0
    {%- endif %}
{% endtest %}
