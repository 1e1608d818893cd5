{#- SQL: the run date the reports were last built for, read when a view is queried
    (security.report_run_date(), pipelines/lib/access.py), not written into the view's SQL.
    A macro of its own so a unit test can set the date (overrides: macros). -#}
{% macro kw_report_run_date() -%}
    (select security.report_run_date())
{%- endmacro %}
