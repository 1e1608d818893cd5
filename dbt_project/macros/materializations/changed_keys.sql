{#-
    The pieces both incremental-by-key materializations share (partitioned_by_month,
    patched_by_key). A build records, in its table's comment, the watermark: the newest
    `changed_at` it has seen. The next build takes every key of the `changes_from` model
    (the model's universe: every key, quarantined ones too) changed since then, recomputes
    the model's rows for exactly those keys, deletes the keys and inserts the rows again.
-#}

{#- temp table kw_changed (key, changed_at): the universe's keys changed after `watermark`;
    returns the watermark the build will record. -#}
{% macro kw_stage_changed_keys(universe, unique_key, changed_at, watermark) %}
    {% call statement('changed_keys') %}
        drop table if exists kw_changed;
        create temp table kw_changed as
        select {{ unique_key }} as key, {{ changed_at }} as changed_at
        from {{ universe }}
        where {{ changed_at }} > '{{ watermark }}'::timestamptz;
        analyze kw_changed;
    {% endcall %}
    {{ return(kw_scalar("select greatest(max(changed_at), '" ~ watermark ~ "'::timestamptz)::text from kw_changed")) }}
{% endmacro %}


{#- temp table kw_patch: the model's rows for the changed keys, as the model has them now.
    `= any(array(...))` is a plain filter the planner pushes down to the base table's key
    index; `in (select ...)` is a semi-join it evaluates after the whole model (for the
    reservation history: 5 s instead of 0.3 s at scale 1). -#}
{% macro kw_stage_patch_rows(sql, unique_key) %}
    {% call statement('patch_rows') %}
        drop table if exists kw_patch;
        create temp table kw_patch as
        select * from ({{ sql }}) as model
        where model.{{ unique_key }} = any(array(select key from kw_changed));
        analyze kw_patch;
    {% endcall %}
{% endmacro %}


{#- The patch itself, for the calling statement: the changed keys deleted, their rows inserted
    again (`keep`: a filter on the patch rows, e.g. those whose partition is rebuilt instead). -#}
{% macro kw_apply_patch_sql(target, unique_key, keep='true') %}
    delete from {{ target }} as current using kw_changed
    where current.{{ unique_key }} = kw_changed.key;
    insert into {{ target }}
    select * from kw_patch as patch
    where {{ keep }};
{% endmacro %}


{#- The watermark a previous build left in the table's comment, or none. -#}
{% macro kw_build_watermark(target) %}
    {%- set comment = kw_scalar("select obj_description('" ~ target ~ "'::regclass, 'pg_class')") -%}
    {%- set found = modules.re.search('watermark=([^;]+)', comment or '') -%}
    {{ return(found.group(1) if found else none) }}
{% endmacro %}
