{#-
    The body of an `int_<table>_quarantined` model: the rows of a check model (`check`, an
    int_<table>_checked) that it keeps out of the marts, as dq.quarantined_rows lists them:
    key, tenant, reason and changed_at (the patch's universe is the table's change view).
-#}
{% macro kw_quarantined_rows_of(check, key) %}
with

checked as (
    select * from {{ check }}
),

final as (
    select
        {{ key }},
        tenant_id,
        quarantine_reason,
        changed_at
    from checked
    where quarantine_reason is not null
)

select * from final
{% endmacro %}
