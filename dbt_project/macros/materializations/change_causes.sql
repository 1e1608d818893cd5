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
{%- for parent in parents %}

-- the parent's rows changed since the build's watermark, then the rows naming them, found
-- by the reference's index in raw: a join of the two reached no raw index through the
-- staging view (1.8M invoice lines scanned for a night's 1,100 changed invoices, 0.3 s at
-- scale 1), and with the key filter inside a join the planner looped over the parents
-- (8 s); apart, each is small and they are hashed
changed_parents_{{ loop.index }} as materialized (
    select parent.{{ parent['on'] }}, {{ kw_extraction_changed_at('parent') if parent.get('staging') else 'parent.changed_at' }} as changed_at
    from {{ parent['relation'] }} as parent
    where {{ kw_extraction_changed_at('parent') if parent.get('staging') else 'parent.changed_at' }} > {{ kw_changes_since() }}
),

rows_of_changed_parents_{{ loop.index }} as materialized (
    select changing_rows.{{ key }}{% if parent['on'] != key %}, changing_rows.{{ parent['on'] }}{% endif %}
    from changing_rows
    where changing_rows.{{ parent['on'] }} = any(array(select {{ parent['on'] }} from changed_parents_{{ loop.index }}))
),
{%- endfor %}

causes as (
    select {{ key }}, {{ kw_extraction_changed_at('changing_rows') }} as changed_at
    from changing_rows
    {%- for parent in parents %}
    union all
    select rows_of_changed.{{ key }}, changed.changed_at
    from rows_of_changed_parents_{{ loop.index }} as rows_of_changed
    inner join changed_parents_{{ loop.index }} as changed
        on rows_of_changed.{{ parent['on'] }} = changed.{{ parent['on'] }}
    {%- endfor %}
)

select * from causes
{% endmacro %}


{#- The watermark of the build reading the changes (kw_stage_changed_keys sets it for its
    transaction); unset, every change. A view of changes returns those since then: filtering
    it on changed_at alone left each parent's branch a join, which no raw index serves. -#}
{% macro kw_changes_since() -%}
    coalesce(nullif(current_setting('kennelworks.changes_since', true), '')::timestamptz, '-infinity'::timestamptz)
{%- endmacro %}


{#- When a staging row last changed for the warehouse: its extraction, or its deletion in the source.
    Every raw table has an index on this expression (pipelines/lib/extract/batch.py CHANGED_AT),
    which the planner matches through the staging view's renames: keep the two alike. -#}
{% macro kw_extraction_changed_at(alias) -%}
    greatest({{ alias }}.extracted_at, {{ alias }}.deleted_in_source_at)
{%- endmacro %}
