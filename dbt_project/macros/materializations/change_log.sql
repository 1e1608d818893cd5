{#-
    Change logs of the incremental-by-key materializations (patched_by_key,
    partitioned_by_month). A build records, in its own transaction, every row it deletes
    (`sign` -1) and every row it inserts (`sign` +1), as its unique key (and partition column)
    and the columns of config `log_changes_of`, stamped `logged_at` (the build's now()), in
    `<model>__changes`. A row rewritten unchanged is logged twice, -1 and +1. Three kinds of
    reader:
    * a model that sums the table by one of those columns (int_activity_totals, by customer)
      re-derives only the groups in the log since its own watermark: the old group of a row
      that moved to another group, or left the table, is in the log, and nowhere else once
      the patch has committed (config `change_logs_of`: the models whose logs it reads);
    * a model that counts the table's rows by those columns adds up the signs of the entries
      since its watermark (the log's signed rows are exactly the table now minus the table
      then: rpt_kennel_occupancy_daily, by tenant, suite type and night);
    * a test of the table that passed before tests only the rows logged since it passed
      (test_scope.sql).

    The log is complete since the later of the time in its comment (`since=`, its table's
    last full build, which empties it) and kw_change_log_days() ago (older entries are dropped
    by the builds). A reader whose watermark is older reads the table in full
    (kw_change_logs_cover). A consumer is ordered after its parents by its own ref() of them.
-#}

{% macro kw_change_log_days() %}{{ return(30) }}{% endmacro %}


{#- The columns a model's change log holds (`node`: a graph node or `model`): its row
    address (kw_row_address), then config `log_changes_of`; `sign` comes after them. -#}
{% macro kw_change_log_columns(node) %}
    {%- set columns = kw_row_address(node) -%}
    {%- for column in node.config.get('log_changes_of', []) if column not in columns -%}
        {%- do columns.append(column) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{#- The columns a model's change log locates a row by (graph node or `model`): its unique
    key, and for a partitioned table the partition column (a lookup reads that partition only). -#}
{% macro kw_row_address(node) %}
    {%- set columns = [node.config.unique_key] -%}
    {%- if node.config.materialized == 'partitioned_by_month' -%}
        {%- do columns.append(node.config.partition_by) -%}
    {%- endif -%}
    {{ return(columns) }}
{% endmacro %}


{% macro kw_change_log(relation) %}
    {{ return(api.Relation.create(database=relation.database, schema=relation.schema,
        identifier=relation.identifier ~ '__changes', type='table')) }}
{% endmacro %}


{#- For a full build's transaction: the log emptied (created with the table's types of
    `columns`), complete since `since`, the time the full build started reading. -#}
{% macro kw_change_log_reset_sql(target, columns, since) %}
    {%- set log = kw_change_log(target) -%}
    drop table if exists {{ log }};
    create table {{ log }} as
    select now() as logged_at, {{ columns | join(', ') }}, 0::smallint as sign from {{ target }} where false;
    create index on {{ log }} (logged_at);
    comment on table {{ log }} is 'kennelworks change log of {{ target.identifier }}: since={{ since }}';
{% endmacro %}


{#- For a patch's transaction, before kw_apply_patch_sql: `columns` of the rows the patch
    deletes, signed -1 (kw_changed's keys as the table has them now, and the rows queries
    `deleted_also` select: partitions replaced), and of the rows it inserts, signed +1 (query
    `inserted`); then the entries past kw_change_log_days() dropped (`by_index`: see
    kw_probe_by_index). Each side is a set (UNION): a row both deleted by key and in a replaced
    partition is logged once. -#}
{% macro kw_change_log_write_sql(target, unique_key, columns, inserted='select * from kw_patch', deleted_also=[], by_index=true) %}
    {%- set log = kw_change_log(target) -%}
    {%- set listed = columns | join(', ') -%}
    insert into {{ log }}
    select now(), {{ listed }}, -1 from (
        select {{ listed }} from {{ target }} as current
        where current.{{ unique_key }} {{ '= any(array(select key from kw_changed))' if by_index else 'in (select key from kw_changed)' }}
        {%- for query in deleted_also %}
        union
        select {{ listed }} from ({{ query }}) as deleted
        {%- endfor %}
    ) as deleted
    union all
    select now(), {{ listed }}, 1 from ({{ inserted }}) as inserted;
    delete from {{ log }} where logged_at < now() - interval '{{ kw_change_log_days() }} days';
{% endmacro %}


{#- The keys (column `key_column`) the change logs of the models named in `names` hold,
    with `logged_at`: the universe of a patched_by_key model with `change_logs_of`. -#}
{% macro kw_change_logs_sql(names, key_column) -%}
    (
    {%- for name in names %}
    select {{ key_column }}, logged_at from {{ kw_change_log(ref(name)) }}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
    ) as logged
{%- endmacro %}


{#- Whether the change logs of the models named in `names` all hold every change after
    `watermark` (a log that does not exist holds none). The calling model must ref them. -#}
{% macro kw_change_logs_cover(names, watermark) %}
    {%- set logs = [] -%}
    {%- for name in names -%}{%- do logs.append(kw_change_log(ref(name))) -%}{%- endfor -%}
    {%- if not logs or kw_scalar("select true where true"
        ~ kw_logs_complete_since_sql(logs, "'" ~ watermark ~ "'::timestamptz")) -%}
        {{ return(true) }}
    {%- endif -%}
    {{ log(this.identifier ~ ": the change log of " ~ (names | join(' or ')) ~ " starts after " ~ watermark ~ "; reading it in full", info=True) }}
    {{ return(false) }}
{% endmacro %}


{#- SQL conditions, each starting with `and`: every log of `logs` holds every change after
    `time` (a timestamptz expression): its recorded `since=` is not later, and `time` is
    within kw_change_log_days(). The one rule of the logs' readers (kw_change_logs_cover,
    test_scope.sql). -#}
{% macro kw_logs_complete_since_sql(logs, time) -%}
    {{ ' ' }}and {{ time }} >= now() - interval '{{ kw_change_log_days() }} days'
    {%- for log in logs %} and coalesce(substring(obj_description(to_regclass('{{ log }}'), 'pg_class') from 'since=([^;]+)')::timestamptz <= {{ time }}, false){% endfor -%}
{%- endmacro %}
