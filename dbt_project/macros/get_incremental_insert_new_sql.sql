{#-
    Incremental strategy `insert_new` (append-only tables such as the archive): rows whose
    unique_key is already in the target are left exactly as they are; only new keys are
    inserted. INSERT ... ON CONFLICT DO NOTHING needs the unique index the model declares in
    `indexes`, and makes a repeated or concurrent run harmless.
-#}
{% macro get_incremental_insert_new_sql(arg_dict) -%}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set keys = arg_dict["unique_key"] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- if not keys -%}
        {{ exceptions.raise_compiler_error("incremental_strategy insert_new needs a unique_key (" ~ target ~ ")") }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    {%- do kw_require_unique_index_config(keys, target) %}
    {{ kw_missing_indexes_sql(target) }}
    {#- the columns the model's tests say are never null, or never negative, declared so
        (tested_not_null.sql) -#}
    {{ kw_declare_tested_sql(target, kw_tested_columns(model)) }}
    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
    on conflict ({{ get_quoted_csv(keys) }}) do nothing
{%- endmacro %}
