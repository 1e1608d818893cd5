{#-
    The columns a model's own tests say are never null: `not_null`, and every part of a
    `primary_key` (tests of severity error, without a `where`). patched_by_key and the
    incremental strategies sync and insert_new declare them NOT NULL on their table (an
    incremental model from its first incremental run: dbt creates the table), so that
    * PostgreSQL rejects a null in the statement that writes it: the build's transaction rolls
      back, naming the column and the row, and the table keeps its previous state (before,
      the row was committed and the test failed after it);
    * the tests read the catalog instead of scanning the table (kw_catalog_proves): about
      1.1 s of node time a night at scale 1 (fct_activities.tenant_id alone 0.5 s); and a
      changed-only build leaves them out (pipelines.lib.build_plan.catalog_claims).
-#}
{% macro kw_tested_not_null(node) %}
    {%- set names = [] -%}
    {%- for test in graph.nodes.values()
        if test.resource_type == 'test' and test.attached_node == node.unique_id and test.test_metadata
        and test.test_metadata.name in ('not_null', 'primary_key')
        and (test.config.severity | lower) == 'error' and not test.config.where -%}
        {%- set kwargs = test.test_metadata.kwargs -%}
        {%- for name in ([kwargs.column_name] if kwargs.column_name else (kwargs.columns or []))
            if modules.re.fullmatch('[a-z_][a-z0-9_]*', name | lower) and (name | lower) not in names -%}
            {%- do names.append(name | lower) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(names | sort) }}
{% endmacro %}


{#- The statements declaring `columns` NOT NULL on `relation` where they are not yet (one
    catalog query; each SET NOT NULL reads the table once, then never again). -#}
{% macro kw_declare_not_null_sql(relation, columns) %}
    {%- if columns -%}
        {%- set nullable = kw_column("select attname::text from pg_attribute where attrelid = '" ~ relation
            ~ "'::regclass and attnum > 0 and not attisdropped and not attnotnull"
            ~ " and attname = any(array['" ~ (columns | join("', '")) ~ "'])") -%}
        {%- for name in nullable %}
        alter table {{ relation }} alter column {{ adapter.quote(name) }} set not null;
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
