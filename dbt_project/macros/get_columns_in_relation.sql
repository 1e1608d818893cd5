{#-
    Our override of dbt-postgres's get_columns_in_relation: the same columns, types and sizes
    as its query of information_schema.columns (the expressions below are that view's), found
    from the relation's oid instead of by name.
    Why: information_schema.columns compares every relation's name, cast to its own type, so it
    reads all of pg_class and pg_attribute (every partition and index of the warehouse), and
    dbt asks it four times per incremental model (schema changes, column types), each on a new
    connection whose catalog cache is cold: 15 ms a call, 32 calls on a nightly build of 27 nodes.
    Like the view, it lists tables, views, foreign and partitioned tables, not materialized
    views, and only columns this role may see; a relation that does not exist has no columns.
    tests/test_dbt_core.py compares the two over every relation of the warehouse.
-#}
{% macro postgres__get_columns_in_relation(relation) -%}
  {% call statement('get_columns_in_relation', fetch_result=True) %}
    {{ kw_columns_in_relation_sql("to_regclass('" ~ relation ~ "')") }}
  {% endcall %}
  {{ return(sql_convert_columns_in_relation(load_result('get_columns_in_relation').table)) }}
{% endmacro %}


{#- The query, for the relation whose oid `oid_sql` gives (the test runs it for every relation). -#}
{% macro kw_columns_in_relation_sql(oid_sql) -%}
    select
        a.attname::text as column_name,
        case when t.typtype = 'd' then
            case when bt.typelem <> 0 and bt.typlen = -1 then 'ARRAY'
                when nbt.nspname = 'pg_catalog' then format_type(t.typbasetype, null)
                else 'USER-DEFINED' end
        else
            case when t.typelem <> 0 and t.typlen = -1 then 'ARRAY'
                when nt.nspname = 'pg_catalog' then format_type(a.atttypid, null)
                else 'USER-DEFINED' end
        end as data_type,
        information_schema._pg_char_max_length(information_schema._pg_truetypid(a, t), information_schema._pg_truetypmod(a, t))::integer as character_maximum_length,
        information_schema._pg_numeric_precision(information_schema._pg_truetypid(a, t), information_schema._pg_truetypmod(a, t))::integer as numeric_precision,
        information_schema._pg_numeric_scale(information_schema._pg_truetypid(a, t), information_schema._pg_truetypmod(a, t))::integer as numeric_scale
    from pg_attribute as a
    join pg_class as c on c.oid = a.attrelid
    join pg_type as t on t.oid = a.atttypid
    join pg_namespace as nt on nt.oid = t.typnamespace
    left join (pg_type as bt join pg_namespace as nbt on nbt.oid = bt.typnamespace)
        on t.typtype = 'd' and t.typbasetype = bt.oid
    where a.attrelid = {{ oid_sql }}
        and a.attnum > 0 and not a.attisdropped
        and c.relkind in ('r', 'v', 'f', 'p')
        and (pg_has_role(c.relowner, 'USAGE') or has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
    order by a.attnum
{%- endmacro %}
