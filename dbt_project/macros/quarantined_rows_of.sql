{#-
    The body of an `int_<table>_quarantined` model: the rows of a check model (`check`, an
    int_<table>_checked) that it keeps out of the marts, as dq.quarantined_rows lists them:
    key, tenant and reason. No changed_at: the patch finds its keys in the table's change
    view, and nothing reads it here.
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
        quarantine_reason
    from checked
    where quarantine_reason is not null
)

select * from final
{% endmacro %}
