{#-
    How rpt_stats_reconciliation compares only the customers whose figures can have changed
    since its previous build (log_readers.sql), instead of every customer (1.2 s of a night at
    scale 3, 0.4 s at scale 1). A customer's row depends on:
    * its check (clean, live): int_customers_checked's log;
    * its stored stats: int_customer_stats_checked's log;
    * its clean activities' totals: int_activity_totals' log (a walk added, changed, deleted,
      moved to or from it, or quarantined since);
    * its quarantined live activities: int_activities_quarantined's log, which keeps each
      activity's customer (old and new: an activity moved between customers in quarantine).
    Teams are few (one per 20 customers) and are compared in full every build.
-#}

{% macro kw_reconciliation_logs() %}
    {{ return([
        [kw_change_log(ref('int_customers_checked')), ['customer_id']],
        [kw_change_log(ref('int_customer_stats_checked')), ['customer_id']],
        [kw_change_log(ref('int_activity_totals')), ['customer_id']],
        [kw_change_log(ref('int_activities_quarantined')), ['customer_id']],
    ]) }}
{% endmacro %}


{#- At the model's render: the record when this build can compare only changed customers. -#}
{% macro kw_reconciliation_previous() %}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set recorded, reason = kw_log_reader_recorded(kw_reconciliation_logs(), []) -%}
    {{ return(kw_log_reader_decide(recorded, reason)) }}
{% endmacro %}


{#- SQL: the customers whose rows this build compares again. -#}
{% macro kw_reconciliation_changed_customers(previous) %}
    {%- set parts = [] -%}
    {%- for log, _ in kw_reconciliation_logs() -%}
        {%- do parts.append("select customer_id from " ~ kw_log_reader_entries(log, previous) ~ " as logged") -%}
    {%- endfor -%}
    {{ return(parts | join(' union ')) }}
{% endmacro %}


{#- The sync's scope: every row after a full comparison, else every team's row and the
    changed customers' rows. -#}
{% macro kw_reconciliation_sync_scope(wanted) %}
    {%- set previous = kw_log_reader_decided() -%}
    {{ return(none if previous is none else "(current.entity = 'team' or current.entity_id in ("
        ~ kw_reconciliation_changed_customers(previous) ~ "))") }}
{% endmacro %}


{% macro kw_reconciliation_hold_logs() %}
    {{ return(kw_log_reader_hold(kw_reconciliation_logs() | map(attribute=0) | list)) }}
{% endmacro %}


{% macro kw_reconciliation_record() %}
    {{ return(kw_log_reader_record(kw_reconciliation_logs() | map(attribute=0) | list, {})) }}
{% endmacro %}
