{#-
    Post-hook of archive.financial_transactions: deletes from the live ledger
    (fct_financial_transactions) the rows this build archived. dbt runs post-hooks inside
    the model's transaction, so the archive INSERT and this DELETE commit together: a row
    moves from live to archive atomically and is never in both, nor in neither.
    This build's rows are those stamped with its transaction's start (archived_at =
    current_timestamp): every row archived before was deleted from live by its own build,
    and live never takes an archived row back (it is built as ledger minus archive). Joining
    the whole archive instead cost 0.8 s a night at scale 1 to find the same rows.
-#}
{% macro move_archived_out_of_live(live_model) -%}
    {%- if execute -%}
        {%- set live = kw_relation_of(live_model) -%}
        {%- if live is not none -%}
            delete from {{ live }} as live
            using {{ this }} as archived
            where archived.archived_at = current_timestamp
                and live.tenant_id = archived.tenant_id
                and live.transaction_id = archived.transaction_id
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
