{#-
    Materialization `patched_by_key` (PostgreSQL): a table kept equal to its model's query by
    re-deriving only the keys that changed since the previous build (macros in
    changed_keys.sql), for big tables whose rows each depend on a handful of source rows.

    * First build, --full-refresh, or a change of the model's columns: the whole table is
      rebuilt. With the same columns it is refilled in place (TRUNCATE + INSERT in one
      transaction), so views built on it survive; otherwise it is built aside
      (`<name>__kw_new`, with its `indexes`) and replaces the old relation, whose dependent
      views (this model's children, rebuilt later in the run) go with it, as with dbt's `table`.
    * Otherwise the keys of `changes_from` whose `changed_at` is later than the watermark in
      the table's comment are deleted and their current rows inserted, in ONE transaction
      (row locks only: readers go on reading the previous state until it commits). A key
      that left the model (quarantined since) is deleted and not inserted again.
    A full build records the time it started reading as the watermark (kw_full_build_watermark),
    and its invocation id as `full_build`, which patches carry on: a model that keeps state
    derived from this table (the archive) sees from a new `full_build` that any row may have
    changed, not only those re-derived since a watermark.
    The model must declare a unique index on `unique_key` in `indexes` (the patch deletes
    through it).
    The table keeps a change log (change_log.sql) of the keys every build rewrites, with the
    columns of `log_changes_of`: its tests test only those rows once they have passed
    (test_scope.sql), and a model reading the log re-derives only its groups in it.
    `change_logs_of` (models, instead of `changes_from`): the changed keys are those the
    models' change logs hold since the watermark; a log that does not reach back to it makes
    the build a full one.
    The columns the model's own not_null and primary_key tests name are declared NOT NULL
    (tested_not_null.sql), and every build creates the configured `indexes` the table lacks
    (kw_missing_indexes_sql).
-#}
{% materialization patched_by_key, adapter='postgres' %}
    {%- set target = this.incorporate(type='table') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set logged_columns = kw_change_log_columns(model) -%}
    {%- set change_logs = config.get('change_logs_of', []) -%}
    {%- if change_logs -%}
        {%- set universe = kw_change_logs_sql(change_logs, unique_key) -%}
        {%- set changed_at = 'logged_at' -%}
    {%- else -%}
        {%- set universe = ref(config.require('changes_from')) -%}
        {%- set changed_at = config.get('changed_at', 'changed_at') -%}
    {%- endif -%}
    {%- set built = this.incorporate(path={'identifier': this.identifier ~ '__kw_new'}, type='table') -%}
    {%- set tested = kw_tested_columns(model) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set look = kw_build_look(target, logged_columns) if existing is not none and existing.is_table else {'record': {}} -%}
    {%- set watermark = look.record.get('watermark') -%}
    {%- set full = watermark is none or should_full_refresh()
        or not kw_change_logs_cover(change_logs, watermark)
        or not look.log_ready -%}
    {%- if not full -%}
        {%- set staged = kw_stage_changed_keys(universe, unique_key, changed_at, watermark) -%}
        {%- set new_watermark = staged['watermark'] -%}
        {%- if not kw_stage_patch_rows(sql, unique_key, target) -%}
            {{ log(target.identifier ~ ": columns changed, rebuilding the table", info=True) }}
            {%- set full = true -%}
        {%- endif -%}
    {%- endif -%}

    {%- if full -%}
        {%- set limit = kw_watermark_limit() -%}
        {% call statement('shape') %}
            drop table if exists kw_shape;
            create temp table kw_shape as select * from ({{ sql }}) as model where false;
        {% endcall %}
        {%- set in_place = existing is not none and existing.is_table
            and kw_column_signature('kw_shape') == kw_column_signature(target) -%}
        {%- if in_place -%}
            {#- Same columns: refilled in place, so the views built on it survive (a new table
                would have to drop them); readers wait for the refill's commit. The indexes are
                dropped and built again after the rows (one sort each instead of an insert per
                row: 3x faster for 3M rows), and the TRUNCATE lets the INSERT skip the WAL. -#}
            {%- set indexes = run_query("select indexname::text, indexdef from pg_indexes where schemaname = '"
                ~ target.schema ~ "' and tablename = '" ~ target.identifier ~ "' order by 1") -%}
            {% call statement('main') %}
                truncate {{ target }};
                {%- for index in indexes %}
                drop index {{ target.schema }}.{{ adapter.quote(index[0]) }};
                {%- endfor %}
                insert into {{ target }} select * from ({{ sql }}) as model;
                {%- for index in indexes %}
                {{ index[1] }};
                {%- endfor %}
                {{ kw_missing_indexes_sql(target) }}
                {{ kw_declare_tested_sql(target, tested) }}
            {% endcall %}
            {%- set new_watermark = kw_full_build_watermark(limit) -%}
        {%- else -%}
            {% call statement('build') %}
                drop table if exists {{ built }};
                create table {{ built }} as select * from ({{ sql }}) as model;
            {% endcall %}
            {% do create_indexes(built) %}
            {%- set declare = kw_declare_tested_sql(built, tested) -%}
            {%- if declare | trim -%}
                {% call statement('not_null') %}{{ declare }}{% endcall %}
            {%- endif -%}
            {%- set new_watermark = kw_full_build_watermark(limit) -%}
            {#- New columns (or a view before): the views built on the old relation go with it;
                they are this model's dependants, rebuilt later in the same run. -#}
            {% call statement('main') %}
                {%- if existing is not none %}
                drop {{ existing.type }} {{ existing }} cascade;
                {%- endif %}
                alter table {{ built }} rename to {{ target.identifier }};
            {% endcall %}
            {%- if existing is not none -%}{% do adapter.cache_dropped(existing) %}{%- endif -%}
        {%- endif -%}
        {% call statement('comment') %}
            comment on table {{ target }} is 'kennelworks patched_by_key: watermark={{ new_watermark }}; full build; full_build={{ invocation_id }}';
            {#- complete from now on: later than the watermark of any consumer's previous build -#}
            {{ kw_change_log_reset_sql(target, logged_columns, kw_scalar("select clock_timestamp()::text")) }}
            {{ kw_drop_staged_sql() }}
        {% endcall %}
    {%- else -%}
        {%- set full_build = look.record.get('full_build') or 'unknown' -%}
        {% call statement('main') %}
            {{ kw_missing_indexes_sql(target) }}
            {{ kw_declare_tested_sql(target, tested) }}
            {{ kw_change_log_write_sql(target, unique_key, logged_columns) }}
            {{ kw_apply_patch_sql(target, unique_key) }}
            comment on table {{ target }} is 'kennelworks patched_by_key: watermark={{ new_watermark }}; patched keys={{ staged['changed_keys'] }}; full_build={{ full_build }}';
            {{ kw_drop_staged_sql() }}
        {% endcall %}
    {%- endif -%}
    {{ log(target.identifier ~ ": " ~ ('full build' if full else 'patched the keys changed since ' ~ watermark), info=True) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}


{#- The build's temp tables dropped in its own transaction (no round trip of their own; the
    post-hooks do not read them). -#}
{% macro kw_drop_staged_sql() %}
    drop table if exists kw_changed;
    drop table if exists kw_patch;
    drop table if exists kw_shape;
{% endmacro %}
