{#-
    `not_null` for PostgreSQL: when the catalog already guarantees it (a NOT NULL column), the
    test checks that guarantee instead of scanning the relation, since PostgreSQL itself
    rejects every violating row. Otherwise, and for expressions, the usual scan runs. Keys are
    tested by `primary_key` below, which proves what it can the same way (a scan of a 3M-row
    key costs 2-5 s on every build).
-#}
{% macro postgres__test_not_null(model, column_name) %}
    {%- if kw_catalog_proves(model, column_name, 'not_null') %}
    -- {{ column_name }} is declared NOT NULL in {{ model }}: nothing to scan
    select null where false
    {%- else %}
    {{ dbt.default__test_not_null(model, column_name) }}
    {%- endif %}
{% endmacro %}


{#-
    Generic test `primary_key`: a key identifies each row, so no part of it is null and no
    value of it repeats. `column_name` for a column's test, `columns` for a model's composite
    key. One dbt node and at most one scan where `unique` + `not_null` on every part made
    several: a test node costs dbt about 25 ms even when it reads nothing (dbt's per-node work
    is most of a nightly build with little to do), and the build ran 46 such pairs. Where the
    catalog proves a property (a unique index on exactly the key; NOT NULL parts), it is not
    scanned for. A failing row is a key value that repeats (n_records > 1) or has a null part.
-#}
{% test primary_key(model, column_name=none, columns=none) %}
    {%- set key = [column_name] if column_name else columns -%}
    {%- if not key -%}
        {{ exceptions.raise_compiler_error("primary_key test of " ~ model ~ ": give column_name or columns") }}
    {%- endif -%}
    {%- set unique = kw_catalog_proves(model, key, 'unique') -%}
    {%- set not_null = kw_catalog_proves(model, key, 'not_null') -%}
    {%- set any_null = '(' ~ (key | join(' is null or ')) ~ ' is null)' -%}
    {%- if unique and not_null %}
    -- ({{ key | join(', ') }}) is a key of {{ model }} by its unique index and NOT NULL columns: nothing to scan
    select {{ key | join(', ') }}, 0 as n_records from {{ model }} where false
    {%- else %}
    select {{ key | join(', ') }}, count(*) as n_records
    from {{ model }}
    {%- if unique %}
    -- unique by an index of {{ model }}: only null parts are looked for
    where {{ any_null }}
    {%- elif key | length == 1 %}
    -- one pass decides whether any key repeats or is null (count(distinct) sorts the key: half
    -- the cost of grouping it, 0.3 s against 0.6 s for 1M ids); the grouping below, which
    -- lists the failing keys, runs only when it does (a one-time filter in the plan). Not for
    -- composite keys: count(distinct (a, b)) compares records, ten times slower.
    where (select count(*) <> count(distinct {{ key[0] }}) from {{ model }})
    {%- endif %}
    group by {{ key | join(', ') }}
    having count(*) > 1 or {{ any_null }}
    {%- endif %}
{% endtest %}


{#- True when the catalog enforces `property` (unique | not_null | non_negative |
    accepted_values, of the `accepted` values) on plain `columns` (one name or a list) of a
    table, partitioned table or materialized view (a view's rows are never checked by
    PostgreSQL): the rule is meta.catalog_proves (pipelines/lib/build_state.py), which the
    planner also reads to leave such tests out of changed-only builds. -#}
{% macro kw_catalog_proves(model, columns, property, accepted=none) %}
    {%- set names = ([columns] if columns is string else columns) | map('lower') | list -%}
    {#- a test with a `where` config gets a subquery string, not a relation: scan it -#}
    {%- if not execute or model.identifier is not defined or names | length == 0 -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for name in names if not modules.re.fullmatch('[a-z_][a-z0-9_]*', name) -%}
        {{ return(false) }}
    {%- endfor -%}
    {%- set relation = adapter.quote(model.schema) ~ '.' ~ adapter.quote(model.identifier) -%}
    {{ return(kw_scalar("select meta.catalog_proves('" ~ relation ~ "', array['" ~ (names | join("', '"))
        ~ "']::text[], '" ~ property ~ "'" ~ ((", " ~ kw_text_array(accepted)) if accepted else "") ~ ")")) }}
{% endmacro %}
