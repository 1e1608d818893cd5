{#- Small catalog and query helpers shared by this project's materializations. -#}

{#- Column names and types of a relation, for comparing the model with the table. -#}
{% macro kw_column_signature(relation) %}
    {{ return(kw_column(
        "select attname || ' ' || format_type(atttypid, atttypmod) from pg_attribute "
        ~ "where attrelid = '" ~ relation ~ "'::regclass and attnum > 0 and not attisdropped order by attnum") | join(', ')) }}
{% endmacro %}


{#- The comment on a relation (table, view, materialized view), or none (also when the
    relation does not exist): where the materializations keep what a build recorded
    (watermark, patched keys, SQL fingerprint). -#}
{% macro kw_comment(relation) %}
    {{ return(kw_scalar("select obj_description(to_regclass('" ~ relation ~ "'), 'pg_class')")) }}
{% endmacro %}


{#- The comment a view or materialized view carries of the SQL it was built from: a build
    whose SQL has the same fingerprint need not touch it (replacing a view takes an ACCESS
    EXCLUSIVE lock, which waits for every reader and makes every later reader wait). -#}
{% macro kw_sql_fingerprint(text) %}
    {{ return('kennelworks sql=' ~ local_md5(text)) }}
{% endmacro %}


{% macro kw_scalar(query) %}
    {%- set result = run_query(query) -%}
    {{ return(result.columns[0].values()[0] if result and result.rows | length > 0 else none) }}
{% endmacro %}


{% macro kw_column(query) %}
    {%- set result = run_query(query) -%}
    {{ return(result.columns[0].values() | list if result else []) }}
{% endmacro %}
