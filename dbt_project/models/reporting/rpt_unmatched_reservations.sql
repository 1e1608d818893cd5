-- One row per reservation whose suite type could not be determined (no resource assigned
-- and no recognisable requested label), with the reason. These stays are still counted:
-- under suite_type 'unmatched' in rpt_kennel_occupancy_daily and in every total.
{{ config(unique_key='reservation_id', indexes=[{'columns': ['reservation_id'], 'unique': True}]) }}

with

stays as (
    select * from {{ ref('fct_reservation_history') }}
),

final as (
    select
        reservation_id,
        tenant_id,
        requested_suite_type,
        unmatched_reason as reason,
        status,
        start_date,
        end_date,
        is_deleted
    from stays
    where suite_type = 'unmatched'
)

select * from final
