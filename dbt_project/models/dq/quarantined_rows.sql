{{ config(
    incremental_strategy='sync',
    unique_key=['source_table', 'record_key'],
    indexes=[{'columns': ['source_table', 'record_key'], 'unique': True}],
) }}

{#-
    Every source row an integrity check keeps out of the marts, with its reason. One entry
    per source table: (source table, its check model, key column); for the two biggest
    sources, the table of their quarantined rows that a build patches by key
    (int_<table>_quarantined), so this model never evaluates their checks over every row.
    A row that stops being quarantined (fixed in the source) leaves this table;
    first_seen_at survives runs.
-#}
{%- set checked_models = [
    ('customers', 'int_customers_checked', 'customer_id'),
    ('pets', 'int_pets_checked', 'pet_id'),
    ('resources', 'int_resources_checked', 'resource_id'),
    ('reservations', 'int_reservations_checked', 'reservation_id'),
    ('invoices', 'int_invoices_checked', 'invoice_id'),
    ('invoice_lines', 'int_invoice_lines_quarantined', 'invoice_line_id'),
    ('payments', 'int_payments_checked', 'payment_id'),
    ('refunds', 'int_refunds_checked', 'refund_id'),
    ('teams', 'int_teams_checked', 'team_id'),
    ('team_members', 'int_team_members_checked', 'team_member_id'),
    ('activities', 'int_activities_quarantined', 'activity_id'),
    ('customer_stats', 'int_customer_stats_checked', 'customer_id'),
    ('team_progress', 'int_team_progress_checked', 'team_id'),
    ('achievements', 'int_achievements_checked', 'achievement_id'),
    ('customer_achievements', 'int_customer_achievements_checked', 'customer_achievement_id'),
] -%}

with

quarantined as (
    {%- for source_table, model, key in checked_models %}
    select
        '{{ source_table }}'::text as source_table,
        {{ key }}::text as record_key,
        tenant_id,
        quarantine_reason as reason
    from {{ ref(model) }}
    where quarantine_reason is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        quarantined.source_table,
        quarantined.record_key,
        quarantined.tenant_id,
        quarantined.reason,
        {%- if is_incremental() %}
        coalesce(previous.first_seen_at, now()) as first_seen_at
        {%- else %}
        now() as first_seen_at
        {%- endif %}
    from quarantined
    {%- if is_incremental() %}
    left join {{ this }} as previous
        on quarantined.source_table = previous.source_table
        and quarantined.record_key = previous.record_key
    {%- endif %}
)

select * from final
