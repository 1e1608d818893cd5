{#-
    The pieces both incremental-by-key materializations share (partitioned_by_month,
    patched_by_key). A build records, in its table's comment, the watermark: the newest
    `changed_at` it has seen. The next build takes every key of the `changes_from` model
    (the model's universe: every key, quarantined ones too) changed since then, recomputes
    the model's rows for exactly those keys, deletes the keys and inserts the rows again.
-#}

{#- The newest watermark a build may record, taken BEFORE it reads: now, or none while a load
    (pipelines/lib/extract: the advisory lock meta.LOCK_NAMESPACE, per table) is in flight.
    changed_at is an extraction's now(), its transaction's START; a load in flight may commit
    rows older than rows the build sees, so while one runs the watermark must not move (the
    next build looks again), and otherwise no later commit can carry a changed_at before now. -#}
{% macro kw_watermark_limit() %}
    {{ return(kw_scalar(kw_watermark_limit_sql())) }}
{% endmacro %}


{% macro kw_watermark_limit_sql() %}
    {{ return("select case when exists (select from pg_locks where locktype = 'advisory' and granted and objsubid = 2"
        ~ " and database = (select oid from pg_database where datname = current_database())"
        ~ " and classid::bigint = (hashtext('kennelworks.extract')::bigint & 4294967295) and objid <> 0)"
        ~ " then null else clock_timestamp()::text end") }}
{% endmacro %}


{#- The watermark a build records. A patch records the newest changed_at it saw, never
    before the previous watermark nor past `limit` (kw_stage_changed_keys computes it in the
    same round trip as the keys). A full build read every row committed before `limit`, so it
    records the limit itself (the newest changed_at of its output would be older when the
    model filters rows out, and the next build would re-derive keys for nothing: 3M
    activities, 30 s, for int_activities_quarantined). While a load was in flight (limit
    none), the previous watermark stays ('-infinity' after a full build). -#}
{% macro kw_full_build_watermark(limit) %}
    {%- if limit is none -%}
        {{ log(this.identifier ~ ": a load was in flight; the watermark stays at -infinity", info=True) }}
        {{ return('-infinity') }}
    {%- endif -%}
    {{ return(limit) }}
{% endmacro %}


{#- temp table kw_changed (key, changed_at): the universe's keys changed after `watermark`;
    returns {'watermark': the one the build will record, 'changed_keys': how many changed}.
    One round trip (each statement costs dbt 5-10 ms): the limit (kw_watermark_limit's rule,
    taken before reading), the keys, and the watermark (kw_full_build_watermark's rule for a
    patch, in SQL). -#}
{% macro kw_stage_changed_keys(universe, unique_key, changed_at, watermark) %}
    {% call statement('changed_keys', fetch_result=true) %}
        select set_config('kennelworks.changes_since', '{{ watermark }}', true),  -- kw_changes_since()
            set_config('kennelworks.watermark_limit', coalesce(({{ kw_watermark_limit_sql() }}), ''), true);
        drop table if exists kw_changed;
        create temp table kw_changed as
        select distinct on ({{ unique_key }}) {{ unique_key }} as key, {{ changed_at }} as changed_at
        from {{ universe }}
        where {{ changed_at }} > '{{ watermark }}'::timestamptz
        order by {{ unique_key }}, {{ changed_at }} desc;
        analyze kw_changed;
        select limits.value is null,
            case when limits.value is null then '{{ watermark }}'
                else least(greatest(changed.seen, '{{ watermark }}'::timestamptz), limits.value)::text end,
            changed.keys
        from (select max(changed_at) as seen, count(*) as keys from kw_changed) as changed,
            (select nullif(current_setting('kennelworks.watermark_limit'), '')::timestamptz as value) as limits;
    {% endcall %}
    {%- set in_flight, new_watermark, keys = load_result('changed_keys')['data'][0] -%}
    {%- if in_flight -%}
        {{ log(this.identifier ~ ": a load was in flight; the watermark stays at " ~ watermark, info=True) }}
    {%- endif -%}
    {{ return({'watermark': new_watermark, 'changed_keys': keys}) }}
{% endmacro %}


{#- temp table kw_patch: the model's rows for the changed keys, as the model has them now;
    given `target`, returns whether its columns (names and types, in order) are the target's.
    `= any(array(...))` is a plain filter the planner pushes down to the base table's key
    index; `in (select ...)` is a semi-join it evaluates after the whole model (for the
    reservation history: 5 s instead of 0.3 s at scale 1). -#}
{% macro kw_stage_patch_rows(sql, unique_key, target=none) %}
    {% call statement('patch_rows', fetch_result=target is not none) %}
        drop table if exists kw_patch;
        create temp table kw_patch as
        select * from ({{ sql }}) as model
        where model.{{ unique_key }} = any(array(select key from kw_changed));
        analyze kw_patch;
        {%- if target is not none %}
        select ({{ kw_column_signature_sql('kw_patch') }}) is not distinct from ({{ kw_column_signature_sql(target) }});
        {%- endif %}
    {% endcall %}
    {{ return(load_result('patch_rows')['data'][0][0] if target is not none else none) }}
{% endmacro %}


{#- The patch itself, for the calling statement: the changed keys deleted, their rows inserted
    again (`keep`: a filter on the patch rows, e.g. those whose partition is rebuilt instead;
    `by_index`: delete through the key index key by key, see kw_probe_by_index). -#}
{% macro kw_apply_patch_sql(target, unique_key, keep='true', by_index=false) %}
    {%- if by_index %}
    delete from {{ target }} as current
    where current.{{ unique_key }} = any(array(select key from kw_changed));
    {%- else %}
    delete from {{ target }} as current using kw_changed
    where current.{{ unique_key }} = kw_changed.key;
    {%- endif %}
    insert into {{ target }}
    select * from kw_patch as patch
    where {{ keep }};
{% endmacro %}


{#- Every `name=value` a build recorded in a relation's comment, as a dict (one query). -#}
{% macro kw_record(relation) %}
    {{ return(kw_parse_record(kw_comment(relation))) }}
{% endmacro %}


{% macro kw_parse_record(comment) %}
    {%- set record = {} -%}
    {%- for name, value in modules.re.findall('(?:^|[ ;])(\\w+)=([^;]+)', comment or '') -%}
        {%- do record.update({name: value}) -%}
    {%- endfor -%}
    {{ return(record) }}
{% endmacro %}


{#- What an incremental-by-key build needs to know of its table before it starts, in one
    query: the table's record (its comment, kw_record: the watermark a previous build left,
    its full_build) and whether its change log (change_log.sql) is ready for a patch:
    complete since a recorded time, with exactly `columns` (a log of other columns, from an
    older build, makes the build a full one). -#}
{% macro kw_build_look(target, columns) %}
    {%- set log = kw_change_log(target) -%}
    {%- set row = run_query("select obj_description(to_regclass('" ~ target ~ "'), 'pg_class'),"
        ~ " obj_description(to_regclass('" ~ log ~ "'), 'pg_class'),"
        ~ " coalesce((select string_agg(attname::text, ',' order by attnum) from pg_attribute where attrelid = to_regclass('"
        ~ log ~ "') and attnum > 0 and not attisdropped) = '" ~ (['logged_at'] + columns + ['sign']) | join(',') ~ "', false)").rows[0] -%}
    {%- set ready = kw_parse_record(row[1]).get('since') is not none and row[2] -%}
    {{ return({'record': kw_parse_record(row[0]), 'log_ready': ready}) }}
{% endmacro %}


{#- The value a build recorded as `name=value` in a relation's comment, or none. -#}
{% macro kw_recorded(relation, name) %}
    {{ return(kw_record(relation).get(name)) }}
{% endmacro %}


{#- Whether to find the changed keys of a partitioned table key by key, through each
    partition's key index (`= any(array(...))`), rather than by the join the planner picks,
    which hashes kw_changed and scans every partition: for a night's 2,300 keys in 56
    partitions 20 ms instead of 0.25-0.3 s at scale 1; a probe per key and partition, so only
    while those probes stay well below the table's rows (a backfill of many keys joins). -#}
{% macro kw_probe_by_index(target) %}
    {{ return(kw_scalar("select (select count(*) from kw_changed) * count(*) < 0.2 * sum(greatest(child.reltuples, 0))"
        ~ " from pg_inherits join pg_class as child on child.oid = pg_inherits.inhrelid"
        ~ " where pg_inherits.inhparent = '" ~ target ~ "'::regclass")) }}
{% endmacro %}
