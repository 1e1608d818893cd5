{#-
    Append-only archive of completed ledger entries older than 12 months (tenant-local date,
    relative to var run_date). Rows are only ever inserted (strategy insert_new): a row stays
    here after its source rows are purged, and full_refresh=false keeps even
    `dbt build --full-refresh` from rebuilding it away. The post-hook deletes the archived rows
    from the live ledger in the same transaction, so moving a row is atomic. An ordinary build
    looks only at the entries that can have become due since the previous one
    (macros/finance/archive_look.sql), not at the whole ledger.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='insert_new',
        unique_key=['transaction_id'],
        full_refresh=false,
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['transaction_id'], 'unique': True},
            {'columns': ['tenant_id', 'occurred_on']},
        ],
        post_hook=[
            "{{ move_archived_out_of_live('fct_financial_transactions') }}",
            "{{ kw_analyze() }}",
            "{{ kw_archive_record_look(ref('int_financial_transactions'), 'fct_financial_transactions') }}",
        ],
    )
}}
{%- set cutoff = '(' ~ run_date() ~ " - interval '12 months')::date" -%}
{%- set narrow = kw_archive_narrow_look(ref('int_financial_transactions'), 'fct_financial_transactions') %}
-- depends_on: {{ ref('int_ledger_changes') }}

with

ledger as (
    select * from {{ ref('int_financial_transactions') }}
),

completed_and_old as (
    select * from ledger
    where not ledger.is_open
        and ledger.occurred_on < {{ cutoff }}
        {%- if narrow %}
        -- only entries that can be due: live ones now past the cut-off, and those the ledger
        -- re-derived since the previous build (macros/finance/archive_look.sql)
        and (
            ledger.transaction_id = any(array(
                select live.transaction_id from {{ narrow.live }} as live where live.occurred_on < {{ cutoff }}
            ))
            or ledger.source_id = any(array(
                select changes.source_id from {{ ref('int_ledger_changes') }} as changes
                where changes.changed_at > '{{ narrow.watermark }}'::timestamptz
            ))
        )
        {%- endif %}
),

final as (
    select
        completed_and_old.transaction_id,
        completed_and_old.tenant_id,
        completed_and_old.kind,
        completed_and_old.source_id,
        completed_and_old.invoice_id,
        completed_and_old.customer_id,
        completed_and_old.amount_cents,
        completed_and_old.occurred_at,
        completed_and_old.occurred_on,
        current_timestamp as archived_at
    from completed_and_old
    {% if is_incremental() %}
    where not exists (
        select from {{ this }} as archived
        where archived.tenant_id = completed_and_old.tenant_id
            and archived.transaction_id = completed_and_old.transaction_id
    )
    {% endif %}
)

select * from final
