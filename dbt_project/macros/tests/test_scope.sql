{#-
    Tests of the rows that changed. A nightly (changed-only) build runs a test again because
    a relation it reads changed; when the test passed before and its relations keep change
    logs (change_log.sql), only the rows logged since then can have broken it. The plan
    (pipelines/lib/build_state.py) lists in meta.dbt_test_scope, for one build, each test
    that passed with the same code, and when that pass was recorded (`since`: after its
    build, which wrote every relation the test reads before running it, so any later change
    is a later build's, and logged); recording the build empties the list, so `dbt test` and
    every-node builds test every row.

    dbt wraps the tested relation of every generic test in get_where_subquery; here, for
    those tests, it becomes the rows the logs name, found through the table's key index one
    by one (a nested loop; a semi-join on the key was a hash join over the whole table, and a
    partitioned table is probed in the logged row's own partition only: 9 ms instead of 0.2 s
    for the reservation history's 2,300 rows of a night among 1M). It keeps:
    * for a test row by row (accepted_values, not_null, non_negative, and primary_key on the
      model's unique key: a repeated key repeats in the rows of that key), the rows whose
      key the model's log holds since then;
    * for relationships, those rows and the rows that point at a parent key the parent's log
      holds since then (a parent row deleted orphans children that did not change);
    * for a row-by-row test of a staging view, the raw rows changed since the raw version the
      pass saw (kw_staged_rows_changed: raw keeps no log, but stamps every row it changes).
    Anything else (another test, a relation without a log complete since then, a log older
    than kw_change_log_days()) tests every row. Rows changed outside the materializations are
    not logged: by hand (as for changed-only builds), and the archive's move out of the live
    ledger (deletions: no row-by-row test can fail for them, and the live ledger is the parent
    of no relationships test). Measured at scale 1 (alternating
    changed-only nights on one warehouse, with and without scopes, 3 each): the tests' node
    time 6.6-8.4 s against 11.8-14.7 s.
-#}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {#- not while parsing: dbt renders a test then with only the macros it depends on -#}
    {%- set changed = kw_test_scope(relation, where) if execute else none -%}
    {%- if changed -%}
        {{ return(changed) }}
    {%- elif where -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{#- The rows of `relation` (those matching `where`) the test being compiled (`model`) needs
    to read, as a subquery: those changed since it passed; or none for every row. What can be
    decided from the graph is decided first: a test that cannot be scoped costs no query. -#}
{% macro kw_test_scope(relation, where) %}
    {%- if not execute or model.resource_type != 'test' or not model.test_metadata -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set test, args = model.test_metadata.name, model.test_metadata.kwargs -%}
    {%- set node = graph.nodes.get(model.attached_node or '') -%}
    {%- set staged = kw_staged_source(node) -%}
    {%- if staged -%}
        {{ return(kw_staged_rows_changed(relation, where, staged) if test in ('accepted_values', 'not_null', 'non_negative') else none) }}
    {%- endif -%}
    {#- a view of one row per row of another model (config `rows_of`), joined to its parents
        on their unique keys: its key repeats only where that model's does, in the rows that
        model logged (its own key test covers the rest); no other test of it is scoped -#}
    {%- set rows_of = node.config.get('rows_of') if node and node.resource_type == 'model' else none -%}
    {%- set grain = graph.nodes.get('model.' ~ project_name ~ '.' ~ rows_of) if rows_of else node -%}
    {%- set log = kw_change_log_of(grain) -%}
    {%- if log is none or (rows_of and test != 'primary_key') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set key = grain.config.unique_key -%}
    {%- set logs = [log] -%}
    {%- if test == 'relationships' -%}
        {%- set parents = model.depends_on.nodes | reject('equalto', model.attached_node) | list -%}
        {%- set parent = graph.nodes.get(parents[0]) if parents | length == 1 else none -%}
        {%- set parent_log = kw_change_log_of(parent) -%}
        {%- if parent_log is none or parent.config.unique_key != args.field -%}
            {{ return(none) }}
        {%- endif -%}
        {%- do logs.append(parent_log) -%}
    {%- elif test in ('primary_key', 'not_null') -%}
        {#- patched_by_key tables have a unique index on their key and declare the tested
            columns NOT NULL: the test reads the catalog, not the rows -#}
        {%- set tested = [args.column_name] if args.column_name else args.columns -%}
        {%- if node.config.materialized == 'patched_by_key' or (test == 'primary_key' and tested != [key]) -%}
            {{ return(none) }}
        {%- endif -%}
    {%- elif test not in ('accepted_values', 'non_negative') -%}
        {{ return(none) }}
    {%- endif -%}

    {#- One query: the time the test passed, if this build scoped it and every log it needs is
        complete since then; for relationships, whether any parent row changed since. -#}
    {%- set found = run_query("select scope.since::text"
        ~ (", exists (select from " ~ logs[1] ~ " where logged_at >= scope.since)" if logs | length > 1 else "")
        ~ " from meta.dbt_test_scope as scope where scope.unique_id = '" ~ model.unique_id ~ "'"
        ~ kw_logs_complete_since_sql(logs, 'scope.since')) -%}
    {%- if not found or found.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = found.rows[0][0] -%}
    {%- set columns = kw_row_address(grain) -%}
    {%- set logged = ['select distinct ' ~ (columns | join(', ')) ~ ' from ' ~ log ~ " where logged_at >= '" ~ since ~ "'::timestamptz"] -%}
    {%- if logs | length > 1 and found.rows[0][1] -%}
        {#- children of the parent keys changed or deleted since: one scan of the child, only
            on a night some parent row changed (a deleted parent orphans unchanged children) -#}
        {%- do logged.append('select ' ~ (columns | join(', ')) ~ ' from ' ~ relation ~ ' where ' ~ args.column_name
            ~ ' in (select ' ~ args.field ~ ' from ' ~ logs[1] ~ " where logged_at >= '" ~ since ~ "'::timestamptz)") -%}
    {%- endif -%}
    {%- set matches = [] -%}
    {%- for column in columns -%}{%- do matches.append('changed.' ~ column ~ ' = logged.' ~ column) -%}{%- endfor -%}
    {#- offset 0 keeps the lateral subquery a nested loop: one key lookup per logged row -#}
    {{ return('(select changed.* from (' ~ (logged | join(' union ')) ~ ') as logged'
        ~ ' cross join lateral (select * from ' ~ relation ~ ' as changed where ' ~ (matches | join(' and '))
        ~ ((' and (' ~ where ~ ')') if where else '') ~ ' offset 0) as changed) dbt_subquery') }}
{% endmacro %}


{#- The change log of a graph node's relation, when it is a model that keeps one and the log
    existed when the run started (dbt's relation cache; a log created during the run is
    newer than any test's pass anyway); else none. -#}
{% macro kw_change_log_of(node) %}
    {%- if not node or node.resource_type != 'model'
        or node.config.materialized not in ('patched_by_key', 'partitioned_by_month')
        or node.config.unique_key is not string -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(node.database, node.schema, node.alias ~ '__changes')) }}
{% endmacro %}


{#- The raw table (`schema.table`, as the plan names its inputs) a staging view reads, when the
    graph node is one (a view over one source, with the raw change stamps renamed as
    staging does); else none. -#}
{% macro kw_staged_source(node) %}
    {%- set parents = node.depends_on.nodes if node and node.resource_type == 'model' else [] -%}
    {%- if node and node.config.materialized == 'view' and parents | length == 1 and parents[0] in graph.sources -%}
        {%- set source = graph.sources[parents[0]] -%}
        {{ return(source.schema ~ '.' ~ source.identifier) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{#- For a row-by-row test of a staging view (`raw`: its raw table), the rows extracted or
    flagged deleted after the version of the raw table the test's pass saw: the version the
    plan compares to leave a test out altogether (pipelines/lib/build_plan.py), so a row it
    misses would have left the test out too. Found through raw's index on the change stamp
    (greatest(_extracted_at, _deleted_in_source_at), pipelines/lib/extract/batch.py), which
    the view's renamed columns reach: a night's 1,500 changed invoices instead of 500k. -#}
{% macro kw_staged_rows_changed(relation, where, raw) %}
    {%- set version = kw_scalar("select scope.inputs ->> '" ~ raw ~ "' from meta.dbt_test_scope as scope"
        ~ " where scope.unique_id = '" ~ model.unique_id ~ "'") -%}
    {%- if version is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return('(select * from ' ~ relation ~ " where greatest(extracted_at, deleted_in_source_at) > '" ~ version
        ~ "'::timestamptz" ~ ((' and (' ~ where ~ ')') if where else '') ~ ') dbt_subquery') }}
{% endmacro %}
