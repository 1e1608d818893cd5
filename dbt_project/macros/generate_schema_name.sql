{#-
    The one rule for where a model lives: its top folder under models/ is its PostgreSQL
    schema (staging, intermediate, marts, reporting, archive, dq). A model may still name a
    schema explicitly with config(schema=...). The Dagster group of a model is read from
    the schema this macro chose (pipelines/lib/dbt.py: group_name), so both stay in step.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is not none -%}
        {{ custom_schema_name | trim }}
    {%- elif node.fqn | length > 2 -%}
        {{ node.fqn[1] | trim }}
    {%- else -%}
        {{ target.schema }}
    {%- endif -%}
{%- endmacro %}
