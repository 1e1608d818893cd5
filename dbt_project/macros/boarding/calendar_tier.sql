{#-
    The calendar tier of a stay [start_date, end_date) seen from `today`:
    historical - ended more than a year ago; recent - ended since then (up to today);
    active - has a night within the next 30 days (includes stays in progress);
    future - starts 30 or more days from today. Every stay gets exactly one tier.
-#}
{% macro calendar_tier(start_date, end_date, today) -%}
    case
        when {{ end_date }} <= {{ today }}
            then case when {{ end_date }} < ({{ today }} - interval '1 year')::date then 'historical' else 'recent' end
        when {{ start_date }} < {{ today }} + 30 then 'active'
        else 'future'
    end
{%- endmacro %}
