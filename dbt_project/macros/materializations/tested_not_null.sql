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
    Likewise the columns a `non_negative` test names get CHECK (column >= 0), named
    `<column>_non_negative` (the occupancy's counts: two scans of 150k rows a night, 0.3 s),
    and the column of an `accepted_values` test (quoted string values) CHECK (column = any
    (array[values]::text[])), named `<column>_accepted_values`, replaced when the values change
    (a node each on a night's finance chain: 0.07-0.13 s each).
    Not on a partitioned table: each partition swapped in would be checked again on ATTACH.
-#}
{#- The plain columns the node's own tests name (severity error, no `where`), by what the
    table declares for them, in one pass over the graph: {'not_null': the columns of
    not_null and primary_key tests, 'non_negative': those of non_negative tests,
    'accepted_values': {column: its values} of accepted_values tests of quoted strings}. -#}
{% macro kw_tested_columns(node) %}
    {%- set declared = {'not_null': 'not_null', 'primary_key': 'not_null', 'non_negative': 'non_negative'} -%}
    {%- set found = {'not_null': [], 'non_negative': []} -%}
    {%- set accepted = {} -%}
    {%- for test in graph.nodes.values()
        if test.resource_type == 'test' and test.attached_node == node.unique_id and test.test_metadata
        and (test.test_metadata.name in declared or test.test_metadata.name == 'accepted_values')
        and (test.config.severity | lower) == 'error' and not test.config.where -%}
        {%- set kwargs = test.test_metadata.kwargs -%}
        {%- if test.test_metadata.name == 'accepted_values' -%}
            {%- set name = (kwargs.column_name or '') | lower -%}
            {%- if modules.re.fullmatch('[a-z_][a-z0-9_]*', name) and kwargs.get('quote', true) is sameas true
                and kwargs['values'] and kwargs['values'] | reject('string') | list | length == 0 -%}
                {%- do accepted.update({name: kwargs['values'] | list}) -%}
            {%- endif -%}
        {%- else -%}
            {%- set names = found[declared[test.test_metadata.name]] -%}
            {%- for name in ([kwargs.column_name] if kwargs.column_name else (kwargs.columns or []))
                if modules.re.fullmatch('[a-z_][a-z0-9_]*', name | lower) and (name | lower) not in names -%}
                {%- do names.append(name | lower) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'not_null': found['not_null'] | sort, 'non_negative': found['non_negative'] | sort,
        'accepted_values': accepted}) }}
{% endmacro %}


{#- The statements declaring on `relation` what its model's tests say (`tested`, from
    kw_tested_columns) where it is not declared yet. -#}
{% macro kw_declare_tested_sql(relation, tested) %}
    {{ kw_declare_not_null_sql(relation, tested['not_null']) }}
    {{ kw_declare_non_negative_sql(relation, tested['non_negative']) }}
    {{ kw_declare_accepted_values_sql(relation, tested['accepted_values']) }}
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


{#- The statements declaring CHECK (column >= 0) for `columns` of `relation` where no such
    constraint is validated yet (one catalog query, none without columns). -#}
{% macro kw_declare_non_negative_sql(relation, columns) %}
    {%- if columns -%}
        {%- set missing = kw_column("select name from unnest(array['" ~ (columns | join("', '")) ~ "']) as name"
            ~ " where not meta.catalog_proves('" ~ relation ~ "', array[name], 'non_negative')") -%}
        {%- for name in missing %}
        alter table {{ relation }} add constraint {{ adapter.quote(name ~ '_non_negative') }} check ({{ adapter.quote(name) }} >= 0);
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{#- The statements declaring, for each text column of `accepted` ({column: values}) of
    `relation` whose CHECK is not in place with exactly these values yet, CHECK (column = any
    (array[values]::text[])) (one catalog query, none without columns); a constraint of that
    name with other values is dropped first. Only text columns: PostgreSQL prints the CHECK of
    another type with a cast, which meta.catalog_proves does not take for proof. -#}
{% macro kw_declare_accepted_values_sql(relation, accepted) %}
    {%- if accepted -%}
        {%- set listed = [] -%}
        {%- for name, values in accepted | dictsort -%}
            {%- do listed.append("('" ~ name ~ "', " ~ kw_text_array(values) ~ ")") -%}
        {%- endfor -%}
        {%- set missing = kw_column("select name from (values " ~ (listed | join(', ')) ~ ") as tested(name, accepted)"
            ~ " where not meta.catalog_proves('" ~ relation ~ "', array[name], 'accepted_values', accepted)"
            ~ " and exists (select from pg_attribute where attrelid = '" ~ relation ~ "'::regclass"
            ~ " and attname = name and atttypid = 'text'::regtype and not attisdropped)") -%}
        {%- for name in missing %}
        alter table {{ relation }} drop constraint if exists {{ adapter.quote(name ~ '_accepted_values') }};
        alter table {{ relation }} add constraint {{ adapter.quote(name ~ '_accepted_values') }} check ({{ adapter.quote(name) }} = any ({{ kw_text_array(accepted[name]) }}));
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{#- `values` (strings) as a SQL text[] literal. -#}
{% macro kw_text_array(values) -%}
    array[{% for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %}]::text[]
{%- endmacro %}
