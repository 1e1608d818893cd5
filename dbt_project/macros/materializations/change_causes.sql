{#-
    The body of an `int_<table>_changes` view, the universe a patched_by_key model reads its
    changed keys from: one row per (key, changed_at) for every cause that can change a row's
    outcome. The row itself changed when it was extracted or found deleted in the source; a
    parent changed at its `changed_at` (a check model's), or, for a staging parent, when it was
    extracted or found deleted. One branch per cause, not one greatest() over a join of all:
    a build's filter on changed_at then reaches each branch's parent first, and a branch
    whose parents did not change never scans the rows (an empty hash join skips its outer
    side), where filtering the check model on its changed_at evaluated the whole check.

    rows: the rows' staging relation; key: their key column; parents: a list of
    {'relation': ..., 'on': the reference column, named alike on both sides, 'staging': true
    for a staging parent without changed_at}.
-#}
{% macro kw_change_causes(rows, key, parents) %}
with

changing_rows as not materialized (
    select * from {{ rows }}
),

causes as (
    select {{ key }}, {{ kw_extraction_changed_at('changing_rows') }} as changed_at
    from changing_rows
    {%- for parent in parents %}
    union all
    select changing_rows.{{ key }}, {{ kw_extraction_changed_at('parent') if parent.get('staging') else 'parent.changed_at' }}
    from changing_rows
    inner join {{ parent['relation'] }} as parent
        on changing_rows.{{ parent['on'] }} = parent.{{ parent['on'] }}
    {%- endfor %}
)

select * from causes
{% endmacro %}


{#- When a staging row last changed for the warehouse: its extraction, or its deletion in the source.
    Every raw table has an index on this expression (pipelines/lib/extract/batch.py CHANGED_AT),
    which the planner matches through the staging view's renames: keep the two alike. -#}
{% macro kw_extraction_changed_at(alias) -%}
    greatest({{ alias }}.extracted_at, {{ alias }}.deleted_in_source_at)
{%- endmacro %}
