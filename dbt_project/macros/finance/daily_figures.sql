{#-
    The daily finance figures of rpt_finance_daily, in one place: how ledger entries become a
    day's sums and counts, and how days computed apart (the live ledger's, the archive's) add
    up. Every figure is additive. The cents are numeric and the counts bigint, the types
    analysts already read.
-#}

{#- (name, aggregate over ledger entries aliased `ledger`, type) of every figure. -#}
{% macro kw_daily_figure_definitions() %}
    {{ return([
        ('invoiced_cents', "coalesce(sum(ledger.amount_cents) filter (where ledger.kind = 'charge'), 0)", 'numeric'),
        ('collected_cents', "coalesce(sum(ledger.amount_cents) filter (where ledger.kind = 'payment'), 0)", 'numeric'),
        ('refunded_cents', "coalesce(-sum(ledger.amount_cents) filter (where ledger.kind = 'refund'), 0)", 'numeric'),
        ('invoice_count', "count(*) filter (where ledger.kind = 'charge')", 'bigint'),
        ('payment_count', "count(*) filter (where ledger.kind = 'payment')", 'bigint'),
        ('refund_count', "count(*) filter (where ledger.kind = 'refund')", 'bigint'),
    ]) }}
{% endmacro %}


{#- The figures' columns, comma-separated (`alias.` before each when given). -#}
{% macro kw_daily_figure_columns(alias=none) -%}
    {%- for name, _, _ in kw_daily_figure_definitions() -%}
    {{ alias ~ '.' if alias else '' }}{{ name }}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}


{#- The figures as aggregates over ledger entries; the query names them `ledger`. -#}
{% macro kw_daily_figures() -%}
    {%- for name, aggregate, _ in kw_daily_figure_definitions() %}
    {{ aggregate }} as {{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}


{#- The same figures added up over rows that already hold them (`days`: an alias), or, with
    `onto`, added to another alias's figures (a missing row of `onto` counts as zero). -#}
{% macro kw_daily_figures_added(days, onto=none) -%}
    {%- for name, _, type in kw_daily_figure_definitions() %}
    {% if onto is none -%}
    sum({{ days }}.{{ name }})::{{ type }} as {{ name }}
    {%- else -%}
    ({{ days }}.{{ name }} + coalesce({{ onto }}.{{ name }}, 0))::{{ type }} as {{ name }}
    {%- endif %}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
