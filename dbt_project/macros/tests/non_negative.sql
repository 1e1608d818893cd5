{#- Generic test: fails on every row where the column is negative. -#}
{% test non_negative(model, column_name) %}
    select * from {{ model }} where {{ column_name }} < 0
{% endtest %}
