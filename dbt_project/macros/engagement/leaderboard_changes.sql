{#-
    How int_leaderboard_customer_distances re-derives only the customers whose rows can have
    changed since its previous build (log_readers.sql), instead of every customer:
    * those in fct_activities' change log since (a walk added, deleted, moved to or from them,
      or quarantined), and in dim_customers' (a new name: display_name);
    * those with walks dated after the previous run date up to this one (walks dated ahead
      count once the period reaches them; every period ends with the run date).
    A new week or month moves a period's start and changes every customer's row: the build
    then recomputes every customer, as after a first build, --full-refresh, an earlier run
    date or a log that no longer reaches back.
-#}

{% macro kw_leaderboard_logs() %}
    {{ return([[kw_change_log(ref('fct_activities')), ['customer_id']], [kw_change_log(ref('dim_customers')), ['customer_id']]]) }}
{% endmacro %}


{#- At the model's render: the record when this build can re-derive only changed customers. -#}
{% macro kw_leaderboard_previous() %}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set recorded, reason = kw_log_reader_recorded(kw_leaderboard_logs(), ['run_date']) -%}
    {%- if not reason -%}
        {%- set same = "'" ~ recorded.run_date ~ "'::date" -%}
        {%- if not kw_scalar("select " ~ run_date() ~ " >= " ~ same) -%}
            {%- set reason = 'the run date is before ' ~ recorded.run_date -%}
        {%- elif not kw_scalar("select date_trunc('week', " ~ run_date() ~ ") = date_trunc('week', " ~ same ~ ")"
            ~ " and date_trunc('month', " ~ run_date() ~ ") = date_trunc('month', " ~ same ~ ")") -%}
            {%- set reason = 'a new week or month' -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(kw_log_reader_decide(recorded, reason)) }}
{% endmacro %}


{#- SQL: the customers whose rows this build re-derives (see above). -#}
{% macro kw_leaderboard_changed_customers(previous) %}
    {%- set parts = [] -%}
    {%- for log, _ in kw_leaderboard_logs() -%}
        {%- do parts.append("select customer_id from " ~ kw_log_reader_entries(log, previous) ~ " as logged") -%}
    {%- endfor -%}
    {%- do parts.append("select customer_id from " ~ ref('fct_activities') ~ " where activity_date > '" ~ previous.run_date
        ~ "'::date and activity_date <= " ~ run_date()) -%}
    {{ return(parts | join(' union ')) }}
{% endmacro %}


{#- The sync's scope: every row after a full recompute, else the changed customers' rows. -#}
{% macro kw_leaderboard_sync_scope(wanted) %}
    {%- set previous = kw_log_reader_decided() -%}
    {{ return(none if previous is none else "current.customer_id in (" ~ kw_leaderboard_changed_customers(previous) ~ ")") }}
{% endmacro %}


{% macro kw_leaderboard_hold_logs() %}
    {{ return(kw_log_reader_hold(kw_leaderboard_logs() | map(attribute=0) | list)) }}
{% endmacro %}


{% macro kw_leaderboard_record() %}
    {{ return(kw_log_reader_record(kw_leaderboard_logs() | map(attribute=0) | list, {'run_date': run_date()})) }}
{% endmacro %}
