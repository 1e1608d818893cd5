{#-
    The body of an `int_<table>_quarantined` model: the rows of a check model (`check`, an
    int_<table>_checked) that it keeps out of the marts, as dq.quarantined_rows lists them:
    key, tenant and reason, and the check's `columns` a model wants in its change log. No
    changed_at: the patch finds its keys in the table's change view, and nothing reads it here.
-#}
{% macro kw_quarantined_rows_of(check, key, columns=[]) %}
with

checked as (
    select * from {{ check }}
),

final as (
    select
        {{ key }},
        tenant_id,
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        quarantine_reason
    from checked
    where quarantine_reason is not null
)

select * from final
{% endmacro %}
