{#-
    The daily finance figures of rpt_finance_daily, in one place: how ledger entries become a
    day's sums and counts, and how days computed apart (the live ledger's, the archive's) add
    up. Every figure is additive. The cents are numeric and the counts bigint, the types
    analysts already read.
-#}

{#- The figures as aggregates over ledger entries (`ledger`: an alias with kind and amount_cents). -#}
{% macro kw_daily_figures(ledger) -%}
    coalesce(sum({{ ledger }}.amount_cents) filter (where {{ ledger }}.kind = 'charge'), 0) as invoiced_cents,
    coalesce(sum({{ ledger }}.amount_cents) filter (where {{ ledger }}.kind = 'payment'), 0) as collected_cents,
    coalesce(-sum({{ ledger }}.amount_cents) filter (where {{ ledger }}.kind = 'refund'), 0) as refunded_cents,
    count(*) filter (where {{ ledger }}.kind = 'charge') as invoice_count,
    count(*) filter (where {{ ledger }}.kind = 'payment') as payment_count,
    count(*) filter (where {{ ledger }}.kind = 'refund') as refund_count
{%- endmacro %}


{#- The same figures added up over rows that already hold them (`days`: an alias), or, with
    `onto`, added to another alias's figures (a missing row of `onto` counts as zero). -#}
{% macro kw_daily_figures_added(days, onto=none) -%}
    {%- set figures = {'invoiced_cents': 'numeric', 'collected_cents': 'numeric', 'refunded_cents': 'numeric',
                       'invoice_count': 'bigint', 'payment_count': 'bigint', 'refund_count': 'bigint'} -%}
    {%- for name, type in figures.items() %}
    {% if onto is none -%}
    sum({{ days }}.{{ name }})::{{ type }} as {{ name }}
    {%- else -%}
    ({{ days }}.{{ name }} + coalesce({{ onto }}.{{ name }}, 0))::{{ type }} as {{ name }}
    {%- endif %}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
