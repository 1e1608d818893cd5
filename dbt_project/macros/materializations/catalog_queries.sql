{#- Small catalog and query helpers shared by this project's materializations. -#}

{#- Column names and types of a relation, for comparing the model with the table. -#}
{% macro kw_column_signature(relation) %}
    {{ return(kw_scalar(kw_column_signature_sql(relation))) }}
{% endmacro %}


{% macro kw_column_signature_sql(relation) %}
    {{ return("select string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' order by attnum) from pg_attribute "
        ~ "where attrelid = '" ~ relation ~ "'::regclass and attnum > 0 and not attisdropped") }}
{% endmacro %}


{#- A query for the names and types of the columns of `relations` (one text, '' for none;
    a relation that does not exist adds nothing). -#}
{% macro kw_columns_of_sql(relations) -%}
    select coalesce(string_agg(attrelid::regclass::text || '.' || attname || ' ' || format_type(atttypid, atttypmod),
        ', ' order by attrelid::regclass::text, attnum), '')
    from pg_attribute
    where attrelid = any(array[{% for relation in relations %}to_regclass('{{ relation }}'){% if not loop.last %}, {% endif %}{% endfor %}]::regclass[])
        and attnum > 0 and not attisdropped
{%- endmacro %}


{#- The relations a model reads (models and sources it refs), as their quoted names. -#}
{% macro kw_parent_relations(node) %}
    {%- set names = [] -%}
    {%- for parent in node.depends_on.nodes -%}
        {%- set found = graph.nodes.get(parent) or graph.sources.get(parent) -%}
        {%- if found and found.get('relation_name') -%}{%- do names.append(found.relation_name) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
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


{#- Raises unless the model's `indexes` config declares a unique index on exactly `keys`:
    INSERT ... ON CONFLICT (the sync and insert_new strategies) needs one, and
    kw_missing_indexes_sql creates it where the table lacks it. -#}
{% macro kw_require_unique_index_config(keys, relation) %}
    {%- set wanted = keys | map('lower') | sort | list -%}
    {%- for index in config.get('indexes', []) if index.get('unique') and (index['columns'] | map('lower') | sort | list) == wanted -%}
        {{ return(true) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(relation ~ ": declare a unique index on (" ~ (keys | join(", "))
        ~ ") in the model's `indexes`: INSERT ... ON CONFLICT needs it") }}
{% endmacro %}


{#- Statements creating the configured `indexes` (dbt's config) that `relation` lacks, after
    one catalog query. A table refilled in place keeps the indexes it has, so without this a
    model first built by another materialization, or given an index in its config later,
    never got it (int_customer_stats_checked patched without its unique key index: every
    patch a scan, and the key test unproven). `indexes`: dbt's form ({'columns': [...],
    'unique': ...}), the model's config by default. On a partitioned table the index is
    created on every partition (an equivalent index a partition has is attached instead). -#}
{% macro kw_missing_indexes_sql(relation, indexes=none) %}
    {%- set existing = kw_column("select case when i.indisunique then 'unique ' else '' end || am.amname || ' '"
        ~ " || array_to_string(array(select a.attname from unnest(i.indkey::int2[]) with ordinality as k(attnum, n)"
        ~ " join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.n), ',')"
        ~ " from pg_index as i join pg_class as c on c.oid = i.indexrelid join pg_am as am on am.oid = c.relam"
        ~ " where i.indrelid = '" ~ relation ~ "'::regclass and i.indpred is null and i.indexprs is null") -%}
    {%- for index in (config.get('indexes', []) if indexes is none else indexes) -%}
        {%- set method = (index.get('type') or 'btree') | lower -%}
        {%- if (('unique ' if index.get('unique') else '') ~ method ~ ' ' ~ (index['columns'] | join(','))) not in existing %}
    create {{ 'unique ' if index.get('unique') else '' }}index on {{ relation }} using {{ method }} ({{ index['columns'] | join(', ') }});
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
