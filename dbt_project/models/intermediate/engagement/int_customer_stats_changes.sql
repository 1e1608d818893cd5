-- Every cause that can change a stored customer_stats row's check, with when it changed: the
-- row itself or its customer's check. int_customer_stats_checked re-derives the rows changed
-- since its last build from this (macro kw_change_causes).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__customer_stats'), 'customer_id', [
    {'relation': ref('int_customer_changes'), 'on': 'customer_id'},
]) }}
