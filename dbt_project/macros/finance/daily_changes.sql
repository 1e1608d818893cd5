{#-
    How rpt_finance_daily re-derives only the days whose figures can have changed since its
    previous build (log_readers.sql), instead of every day of the live ledger: the tenant-local
    days of the entries the live ledger's patches deleted or inserted since (its change log),
    and the days the archive's daily figures changed since (int_archived_finance_daily's
    last_archived_at, recorded as `archived_at`). An entry the archive moves out of the live
    ledger (its post-hook, which logs nothing) is archived in the same run, so its day is among
    the latter. Anything else recomputes every day (log_readers.sql).
-#}

{% macro kw_finance_daily_log() %}
    {{ return(kw_change_log(ref('fct_financial_transactions'))) }}
{% endmacro %}


{% macro kw_finance_daily_previous() %}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set recorded, reason = kw_log_reader_recorded([[kw_finance_daily_log(), ['tenant_id', 'occurred_on']]], ['archived_at']) -%}
    {{ return(kw_log_reader_decide(recorded, reason)) }}
{% endmacro %}


{#- SQL: (tenant_id, date) of the days this build re-derives. -#}
{% macro kw_finance_daily_changed_days(previous) %}
    {{ return("select tenant_id, occurred_on as date from " ~ kw_log_reader_entries(kw_finance_daily_log(), previous) ~ " as logged"
        ~ " union select tenant_id, date from " ~ ref('int_archived_finance_daily')
        ~ " where last_archived_at > '" ~ previous.archived_at ~ "'::timestamptz") }}
{% endmacro %}


{#- The sync's scope: every row after a full recompute, else the changed days. -#}
{% macro kw_finance_daily_sync_scope(wanted) %}
    {%- set previous = kw_log_reader_decided() -%}
    {{ return(none if previous is none else "(current.tenant_id, current.date) in (" ~ kw_finance_daily_changed_days(previous) ~ ")") }}
{% endmacro %}


{#- Pre-hook: neither the ledger's log nor the archive's days change until this build commits. -#}
{% macro kw_finance_daily_hold() %}
    {{ return(kw_log_reader_hold([kw_finance_daily_log(), ref('int_archived_finance_daily')])) }}
{% endmacro %}


{% macro kw_finance_daily_record() %}
    {{ return(kw_log_reader_record([kw_finance_daily_log()], {'archived_at':
        "select coalesce(max(last_archived_at), '-infinity') from " ~ ref('int_archived_finance_daily')})) }}
{% endmacro %}
