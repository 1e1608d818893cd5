{#-
    A date var, validated again here (Python validates before calling dbt) so that no
    caller can smuggle SQL through --vars: returns the ISO string, or raises naming the var.
-#}
{% macro iso_date(value, name) -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be an ISO date (YYYY-MM-DD), got '" ~ text ~ "'") }}
    {%- endif -%}
    {%- set parsed = modules.datetime.datetime.strptime(text, '%Y-%m-%d') -%}
    {{- parsed.strftime('%Y-%m-%d') -}}
{%- endmacro %}


{#-
    The run date as a SQL date expression: var run_date when given (unit tests set it), else
    env KENNELWORKS_RUN_DATE (how pipelines/lib/dbt.py passes it: a changed var would make dbt
    re-parse every file), else current_date.
    The environment is read when SQL is compiled, never while parsing: dbt re-parses every file
    whose parse read an environment variable that changed since, and the date changes every
    night (6 files, 1.0 s of every nightly build at scale 1). What parsing takes from a model
    (refs, config) never depends on the date.
-#}
{% macro run_date() -%}
    {%- set value = var('run_date', '') or (env_var('KENNELWORKS_RUN_DATE', '') if execute else '') -%}
    {%- if value is none or (value | string | trim) == '' -%}
        current_date
    {%- else -%}
        date '{{ iso_date(value, "run_date") }}'
    {%- endif -%}
{%- endmacro %}
