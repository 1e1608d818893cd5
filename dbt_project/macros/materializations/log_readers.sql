{#-
    Reporting tables (incremental strategy `sync`) that start from the rows they hold and
    apply only what change logs (change_log.sql) recorded since their previous build, instead
    of recomputing everything: rpt_kennel_occupancy_daily adds up the signed entries night by
    night; int_leaderboard_customer_distances re-derives the customers in them. The pieces
    they share:

    * the table's comment records what its rows stand for: per log, the newest entry they
      include (`watermark_<log>`), and the model's own fields (its run date, ...);
    * at the model's render, kw_log_reader_recorded reads that record and says whether this
      build can start from it: not after a first build or a --full-refresh, nor without a
      record, nor when the model's SQL file changed since (`code`), nor when a log lacks the
      columns the model reads or no longer reaches back to the watermark (a full build of the
      logged table empties its log); the model adds its own
      conditions, then kw_log_reader_decide keeps the decision in the session, where the
      sync's scope (config `sync_scope`) and the post-hook read it (kw_log_reader_decided):
      all three must agree, and only the render may decide;
    * the pre-hook kw_log_reader_hold makes writers of the logs wait until this build commits,
      so the watermark the post-hook records (kw_log_reader_record) is exactly what it read.
-#}

{#- [recorded, reason]: the record ({watermark_<log>: ..., and each of `fields`}) and none,
    or none and why the build recomputes everything. `logs`: [log relation, [the columns the
    model reads from it]] pairs. -#}
{% macro kw_log_reader_recorded(logs, fields) %}
    {%- if not is_incremental() -%}
        {{ return([none, 'a first build or a full refresh']) }}
    {%- endif -%}
    {%- set record = kw_record(this) -%}
    {%- set recorded = {} -%}
    {%- for name in kw_log_reader_watermarks(logs | map(attribute=0) | list) + fields -%}
        {%- do recorded.update({name: record.get(name)}) -%}
    {%- endfor -%}
    {%- if none in recorded.values() -%}
        {{ return([none, 'no record of what its rows stand for']) }}
    {%- endif -%}
    {%- if record.get('code') != kw_log_reader_code() -%}
        {{ return([none, 'its SQL changed since its rows were computed']) }}
    {%- endif -%}
    {%- for log, columns in logs -%}
        {%- set missing = columns | reject('in', kw_column("select attname::text from pg_attribute where attrelid = to_regclass('"
            ~ log ~ "') and attnum > 0 and not attisdropped")) | list -%}
        {%- if missing -%}
            {{ return([none, log.identifier ~ ' lacks ' ~ (missing | join(', '))]) }}
        {%- endif -%}
        {%- if not kw_scalar("select true where true" ~ kw_logs_complete_since_sql([log], "'" ~ recorded[kw_log_reader_watermarks([log])[0]] ~ "'::timestamptz")) -%}
            {{ return([none, log.identifier ~ ' starts after the recorded watermark']) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return([recorded, none]) }}
{% endmacro %}


{#- The record's names of the logs' watermarks. -#}
{% macro kw_log_reader_watermarks(logs) %}
    {%- set names = [] -%}
    {%- for log in logs -%}{%- do names.append('watermark_' ~ log.identifier) -%}{%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{#- SQL: the entries of `log` a build starting from `previous` (its record) reads. -#}
{% macro kw_log_reader_entries(log, previous) -%}
    (select * from {{ log }} where logged_at > '{{ previous[kw_log_reader_watermarks([log])[0]] }}'::timestamptz)
{%- endmacro %}


{#- The build's decision: `recorded` when `reason` is none, else none (the reason logged);
    kept in the session for kw_log_reader_decided. -#}
{% macro kw_log_reader_decide(recorded, reason) %}
    {%- set previous = none if reason else recorded -%}
    {%- if reason -%}
        {{ log(this.identifier ~ ": recomputing every row (" ~ reason ~ ")", info=True) }}
    {%- endif -%}
    {%- do run_query("select set_config('" ~ kw_log_reader_setting() ~ "', '" ~ (tojson(previous) if previous else '') ~ "', false)") -%}
    {{ return(previous) }}
{% endmacro %}


{% macro kw_log_reader_decided() %}
    {%- set kept = kw_scalar("select current_setting('" ~ kw_log_reader_setting() ~ "', true)") -%}
    {{ return(fromjson(kept) if kept else none) }}
{% endmacro %}


{#- The model's own SQL file, as the record keeps it: rows computed by other SQL are not
    started from. A change of a macro it calls is not seen: build it with --full-refresh. -#}
{% macro kw_log_reader_code() %}{{ return(local_md5(model.raw_code)) }}{% endmacro %}


{% macro kw_log_reader_setting() %}{{ return('kennelworks.previous_' ~ this.identifier) }}{% endmacro %}


{#- Pre-hook: no build writes `logs` until this build commits. -#}
{% macro kw_log_reader_hold(logs) %}
    {%- if execute -%}
    lock table {{ logs | join(', ') }} in share mode
    {%- endif -%}
{% endmacro %}


{#- Post-hook: the record, in the table's comment: each log's newest entry (or, when empty,
    the time it is complete since), and `fields` ({name: SQL expression}). -#}
{% macro kw_log_reader_record(logs, fields) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set parts = [] -%}
    {%- for log in logs -%}
        {%- do parts.append("'" ~ kw_log_reader_watermarks([log])[0] ~ "=' || coalesce((select max(logged_at) from " ~ log
            ~ ")::text, substring(obj_description('" ~ log ~ "'::regclass, 'pg_class') from 'since=([^;]+)'))") -%}
    {%- endfor -%}
    {%- for name, expression in fields.items() -%}
        {%- do parts.append("'" ~ name ~ "=' || (" ~ expression ~ ")::text") -%}
    {%- endfor -%}
    {%- do parts.append("'code=" ~ kw_log_reader_code() ~ "'") -%}
    comment on table {{ this }} is 'kennelworks log reader: {{ kw_scalar("select " ~ (parts | join(" || '; ' || "))) }}'
{% endmacro %}
