{#-
    Materialization `partitioned_by_month` (PostgreSQL): the model becomes a real
    `PARTITION BY RANGE (<partition_by>)` table with one partition per month plus a DEFAULT
    partition (for dates outside `partition_range`).

    Guarantees:
    * A first build (or --full-refresh, or a change of the model's columns) builds every
      partition aside and swaps the whole table in one short transaction.
    * Otherwise only the months touched since the last build change: the months where the
      changed keys now fall AND the months where those keys sit in the table today (a stay
      moved from March to April leaves March clean), plus any months named in the var
      `months_var` (Dagster's monthly partitions). "Changed" means `changed_at` in the model
      `changes_from` (every key, quarantined ones too) is later than the watermark stored
      in the table's comment by the previous build.
    * A touched month is REBUILT when it is named in `months_var`, has no partition yet, or
      more than `patch_max_fraction` of its rows changed; otherwise it is PATCHED: its
      changed keys deleted and their current rows inserted. A day of app traffic touches
      most months with a handful of rows each (late payments, cancellations, purges), and
      rebuilding 30 months for 2,000 rows cost 30 s at scale 1; a patch takes row locks
      only, so readers never wait for it.
    * Each rebuilt month is a new table with its CHECK constraint (validated while it is
      built, so ATTACH skips its scan) and the `partition_indexes`, built while readers keep
      reading the old partition; then ONE transaction under `SET LOCAL lock_timeout` applies
      the patches, detaches and drops the old partitions and attaches the new ones, so
      readers wait milliseconds, never see half a build, and a failure anywhere leaves the
      previous table intact (leftover build tables are dropped by the next run).
    * The same transaction logs every row it deletes or inserts, the rows of the partitions it
      replaces included (change_log.sql: key, partition column, `log_changes_of`, signed), so
      tests that passed before test only those rows (test_scope.sql) and a model counting the
      table adds up the changes; a full build empties the log.
    * An index added to `partition_indexes` after the table was built is created on the
      parent, and with it on every partition, by the next incremental build.
-#}
{% materialization partitioned_by_month, adapter='postgres' %}
    {%- set target = this.incorporate(type='table') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set partition_by = config.require('partition_by') -%}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set universe = ref(config.require('changes_from')) -%}
    {%- set changed_at = config.get('changed_at', 'changed_at') -%}
    {%- set lock_timeout = config.get('lock_timeout', '5s') -%}
    {%- set partition_indexes = config.get('partition_indexes', []) -%}
    {%- set patch_max_fraction = config.get('patch_max_fraction', 0.25) | float -%}
    {%- set range = config.get('partition_range', ['1990-01-01', '2100-01-01']) -%}
    {%- set months_var = config.get('months_var') -%}
    {%- set logged_columns = kw_change_log_columns(model) -%}
    {%- set forced_months = [] -%}
    {%- if months_var -%}
        {%- for month in var(months_var, []) -%}
            {%- do forced_months.append(iso_date(month, months_var)[:8] ~ '01') -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set lo = iso_date(range[0], 'partition_range') -%}
    {%- set hi = iso_date(range[1], 'partition_range') -%}
    {%- set name = target.identifier -%}
    {%- set build_prefix = name ~ '__new_' -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- Leftovers of a run that failed before its swap. -#}
    {%- for leftover in kw_partitioned_relations(target.schema, build_prefix) -%}
        {% call statement('drop_leftover_' ~ loop.index) %}drop table if exists {{ target.schema }}.{{ leftover }} cascade{% endcall %}
    {%- endfor -%}

    {%- set look = kw_build_look(target, logged_columns) if existing is not none else {'record': {}} -%}
    {%- set watermark = look.record.get('watermark') -%}
    {%- set rebuilt_months, patched_months = [], [] -%}
    {%- set full = existing is none or should_full_refresh() or watermark is none or not look.log_ready -%}

    {#- 1. The rows to build, staged once. -#}
    {%- if full -%}
        {%- set limit = kw_watermark_limit() -%}
        {% call statement('stage') %}
            drop table if exists kw_stage;
            create temp table kw_stage as select * from ({{ sql }}) as model;
        {% endcall %}
        {%- set new_watermark = kw_full_build_watermark(limit) -%}
    {%- else -%}
        {%- set new_watermark = kw_stage_changed_keys(universe, unique_key, changed_at, watermark)['watermark'] -%}
        {%- do kw_stage_patch_rows(sql, unique_key) -%}  {#- its columns are compared as kw_stage's below -#}
        {%- set by_index = kw_probe_by_index(target) -%}
        {#- Per touched month: how many changed rows arrive in it or leave it, its size now,
            and whether it has a partition (null month: rows outside partition_range). -#}
        {%- set touched_sql -%}
            with touched as (
                select date_trunc('month', {{ partition_by }})::date as month from kw_patch
                union all
                select date_trunc('month', current.{{ partition_by }})::date
                from {{ target }} as current
                {%- if by_index %}
                where current.{{ unique_key }} = any(array(select key from kw_changed))
                {%- else %}
                inner join kw_changed on current.{{ unique_key }} = kw_changed.key
                {%- endif %}
                {%- for m in forced_months %}
                union all
                select '{{ m }}'::date
                {%- endfor %}
            ),
            partitions as (
                select child.relname::text as relname, child.reltuples
                from pg_inherits join pg_class as child on child.oid = pg_inherits.inhrelid
                where pg_inherits.inhparent = '{{ target }}'::regclass
            )
            select
                touched.month::text,
                count(*) as changed,
                max(partitions.reltuples) as current_rows,
                bool_or(partitions.relname is not null) as has_partition
            from touched
            left join partitions
                on partitions.relname = '{{ name }}_p' || to_char(touched.month, 'YYYYMM')
            where touched.month >= '{{ lo }}'::date and touched.month < '{{ hi }}'::date
            group by touched.month
            order by touched.month
        {%- endset -%}
        {#- A month without a partition holds no rows yet, so all its rows are changed ones
            (kw_patch); only the rebuild of an existing month reads the model for it. -#}
        {%- set new_months = [] -%}
        {%- for row in run_query(touched_sql) -%}
            {%- set month, changed, current_rows, has_partition = row[0], row[1] | int, row[2] | float, row[3] -%}
            {%- if not has_partition -%}
                {%- do rebuilt_months.append(month) -%}{%- do new_months.append(month) -%}
            {%- elif month in forced_months or changed > patch_max_fraction * current_rows -%}
                {%- do rebuilt_months.append(month) -%}
            {%- else -%}
                {%- do patched_months.append(month) -%}
            {%- endif -%}
        {%- endfor -%}
        {% call statement('stage') %}
            drop table if exists kw_stage;
            create temp table kw_stage as
            select * from kw_patch as model
            where {{ kw_in_months('model.' ~ partition_by, new_months) }}
            {%- if rebuilt_months | length > new_months | length %}
            union all
            select * from ({{ sql }}) as model
            where {{ kw_in_months('model.' ~ partition_by, rebuilt_months | reject('in', new_months) | list) }}
            {%- endif %};
        {% endcall %}
    {%- endif -%}

    {#- A new table, or a change of the model's columns: the parent itself is (re)created. -#}
    {%- set new_parent = existing is none or kw_column_signature('kw_stage') != kw_column_signature(target) -%}
    {%- if new_parent and not full -%}
        {{ log(name ~ ": columns changed, rebuilding every partition", info=True) }}
        {%- set full = true -%}
        {%- set patched_months = [] -%}
        {% call statement('stage_all') %}
            drop table if exists kw_stage;
            create temp table kw_stage as select * from ({{ sql }}) as model;
        {% endcall %}
    {%- endif -%}

    {#- Each month's build reads its slice of the stage through this index, not the whole stage. -#}
    {% call statement('index_stage') %}
        create index on kw_stage ({{ partition_by }});
        analyze kw_stage;
    {% endcall %}

    {%- if full -%}
        {%- set months = kw_column("select distinct date_trunc('month', " ~ partition_by ~ ")::date::text from kw_stage where "
            ~ partition_by ~ " >= '" ~ lo ~ "' and " ~ partition_by ~ " < '" ~ hi ~ "' order by 1") -%}
    {%- else -%}
        {%- set months = rebuilt_months -%}
    {%- endif -%}

    {#- 2. Each month (and the default partition) built aside, complete with CHECK and indexes. -#}
    {%- set built = [] -%}
    {%- for month in months -%}
        {%- set suffix = 'p' ~ month[:4] ~ month[5:7] -%}
        {%- set bound -%}
            {{ partition_by }} is not null and {{ partition_by }} >= '{{ month }}'::date and {{ partition_by }} < ('{{ month }}'::date + interval '1 month')::date
        {%- endset -%}
        {%- set rows = kw_build_partition(target, suffix, bound, partition_indexes) -%}
        {%- do built.append({'suffix': suffix, 'rows': rows,
                             'bound': "for values from ('" ~ month ~ "') to ('" ~ kw_scalar("select ('" ~ month ~ "'::date + interval '1 month')::date::text") ~ "')"}) -%}
    {%- endfor -%}
    {%- if full -%}
        {%- set bound = "not (" ~ partition_by ~ " >= '" ~ lo ~ "'::date and " ~ partition_by ~ " < '" ~ hi ~ "'::date)" -%}
        {%- set rows = kw_build_partition(target, 'default', bound, partition_indexes) -%}
        {%- do built.append({'suffix': 'default', 'rows': rows, 'bound': 'default'}) -%}
    {%- endif -%}
    {{ adapter.commit() }}

    {#- 3. One short transaction swaps them in: new partitions attached (empty months
        dropped), replaced ones detached and dropped; on a full rebuild, every old partition. -#}
    {%- set attached = [] if new_parent else kw_partitioned_relations(target.schema, name ~ '_') -%}
    {%- set built_names = built | map(attribute='suffix') | list -%}
    {%- set kept = [] -%}
    {%- for part in built -%}
        {%- if part.rows > 0 or part.suffix == 'default' -%}{%- do kept.append(part) -%}{%- endif -%}
    {%- endfor -%}
    {%- set replaced = [] -%}
    {%- for relname in attached -%}
        {%- if relname[(name | length) + 1:] in built_names or (full and not relname.startswith(name ~ '__')) -%}
            {%- do replaced.append(relname) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set patched = [] -%}
    {%- for month in patched_months -%}{%- do patched.append('p' ~ month[:4] ~ month[5:7]) -%}{%- endfor -%}
    {%- set comment = 'kennelworks partitioned_by_month: watermark=' ~ new_watermark
        ~ '; rebuilt=' ~ (built | length) ~ '; months=' ~ (built | map(attribute='suffix') | join(','))
        ~ '; patched=' ~ (patched | length) ~ '; patched_months=' ~ (patched | join(',')) -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {#- One statement string: it runs as one transaction (inside dbt's, or as PostgreSQL's
        implicit transaction of a multi-statement query), so SET LOCAL covers every step.
        synchronous_commit off: the commit does not wait for the WAL flush, which shortens the
        lock; a crash can only lose the whole swap (old partitions and watermark stay, the
        next run redoes it), never half of it. Patches go first (row locks only: readers go on);
        the last line reports how long the partition DDL held its locks. -#}
    {% call statement('swap', fetch_result=True) %}
        set local lock_timeout = '{{ lock_timeout }}';
        set local synchronous_commit = off;
        {%- if not full %}
        {#- an index added to `partition_indexes` since the table was built: created on the
            parent, so on every partition (SHARE locks: writers wait, readers do not) -#}
        {{ kw_missing_indexes_sql(target, kw_partition_index_configs(partition_indexes)) }}
        {#- the keys of every row deleted or inserted: patched, and in the partitions replaced -#}
        {{ kw_change_log_write_sql(target, unique_key, logged_columns,
            inserted='select * from kw_patch as patch where not ' ~ kw_in_months('patch.' ~ partition_by, months)
                ~ ' union all select * from kw_stage',
            deleted_also=['select * from ' ~ target ~ ' where ' ~ kw_in_months(partition_by, months)], by_index=by_index) }}
        {{ kw_apply_patch_sql(target, unique_key, 'not ' ~ kw_in_months('patch.' ~ partition_by, months), by_index) }}
        {%- endif %}
        select set_config('kennelworks.swap_started', clock_timestamp()::text, true);
        {%- if new_parent %}
        {%- if existing is not none %}
        drop table {{ target }} cascade;
        {%- endif %}
        create table {{ target }} (like kw_stage) partition by range ({{ partition_by }});
        {%- for columns in partition_indexes %}
        create index on {{ target }} ({{ columns | join(', ') }});
        {%- endfor %}
        {%- endif %}
        {%- for relname in replaced %}
        alter table {{ target }} detach partition {{ target.schema }}.{{ relname }};
        drop table {{ target.schema }}.{{ relname }};
        {%- endfor %}
        {%- for part in kept %}
        alter table {{ target }} attach partition {{ target.schema }}.{{ build_prefix }}{{ part.suffix }} {{ part.bound }};
        alter table {{ target.schema }}.{{ build_prefix }}{{ part.suffix }} rename to {{ name }}_{{ part.suffix }};
        {%- for columns in partition_indexes %}
        alter index {{ target.schema }}.{{ build_prefix }}{{ part.suffix }}_ix{{ loop.index }} rename to {{ name }}_{{ part.suffix }}_ix{{ loop.index }};
        {%- endfor %}
        {%- endfor %}
        {%- for part in built if part not in kept %}
        drop table {{ target.schema }}.{{ build_prefix }}{{ part.suffix }};
        {%- endfor %}
        {%- if full %}
        {{ kw_change_log_reset_sql(target, logged_columns, kw_scalar("select clock_timestamp()::text")) }}
        {%- endif %}
        comment on table {{ target }} is '{{ comment }}';
        select round(extract(epoch from clock_timestamp() - current_setting('kennelworks.swap_started')::timestamptz) * 1000, 1)::text as locked_ms;
    {% endcall %}
    {%- set locked_ms = load_result('swap')['data'][0][0] -%}
    {%- if new_parent and existing is not none -%}
        {#- dbt's relation cache must forget the views dropped with the old table -#}
        {% do adapter.cache_dropped(existing) %}
    {%- endif -%}
    {{ adapter.commit() }}
    {%- set swap_ms = ((modules.datetime.datetime.now() - started).total_seconds() * 1000) | round(1) -%}
    {{ log(name ~ ": " ~ ('full build' if full else 'incremental') ~ ", rebuilt " ~ (built | length)
        ~ " partition(s) " ~ (built | map(attribute='suffix') | join(',')) ~ ", patched " ~ (patched | length)
        ~ " " ~ (patched | join(',')) ~ ", swap transaction " ~ locked_ms
        ~ " ms in the database, " ~ swap_ms ~ " ms with the commit and dbt's round trips", info=True) }}

    {#- the swap's duration joins the comment afterwards, for the benchmark and for operators -#}
    {% call statement('main') %}
        drop table if exists kw_stage;
        drop table if exists kw_changed;
        drop table if exists kw_patch;
        comment on table {{ target }} is '{{ comment }}; swap_db_ms={{ locked_ms }}; swap_ms={{ swap_ms }}';
        select {{ built | length }} as partitions_rebuilt
    {% endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}


{#- `partition_indexes` (lists of columns) in dbt's form, for kw_missing_indexes_sql. -#}
{% macro kw_partition_index_configs(partition_indexes) %}
    {%- set configs = [] -%}
    {%- for columns in partition_indexes -%}{%- do configs.append({'columns': columns}) -%}{%- endfor -%}
    {{ return(configs) }}
{% endmacro %}


{#- Build one partition as a standalone table <name>__new_<suffix>; returns its row count. -#}
{% macro kw_build_partition(target, suffix, bound, partition_indexes) %}
    {%- set table = target.schema ~ '.' ~ target.identifier ~ '__new_' ~ suffix -%}
    {% call statement('build_' ~ suffix) %}
        create table {{ table }} (like kw_stage);
        insert into {{ table }} select * from kw_stage where {{ bound }};
        alter table {{ table }} add constraint {{ target.identifier ~ '_' ~ suffix }}_bound check ({{ bound }});
        {%- for columns in partition_indexes %}
        create index {{ target.identifier }}__new_{{ suffix }}_ix{{ loop.index }} on {{ table }} ({{ columns | join(', ') }});
        {%- endfor %}
        analyze {{ table }};
    {% endcall %}
    {{ return(kw_scalar("select count(*) from " ~ table) | int) }}
{% endmacro %}


{#- Tables in `schema` whose name starts with `prefix` (partitions and build leftovers). -#}
{% macro kw_partitioned_relations(schema, prefix) %}
    {{ return(kw_column(
        "select relname::text from pg_class join pg_namespace on pg_namespace.oid = relnamespace "
        ~ "where nspname = '" ~ schema ~ "' and relkind in ('r', 'p') and starts_with(relname, '" ~ prefix ~ "') order by 1")) }}
{% endmacro %}


{#- SQL: `column` falls in one of `months` (first days, ISO text); false for none. -#}
{% macro kw_in_months(column, months) %}
    {%- if not months -%}false{%- else -%}
    ({%- for month in months %}({{ column }} >= '{{ month }}'::date and {{ column }} < '{{ month }}'::date + interval '1 month'){% if not loop.last %} or {% endif %}{%- endfor -%})
    {%- endif -%}
{% endmacro %}
