-- Every reservation with the suite type it occupies: the assigned resource's suite_type
-- wins, else the normalized requested_suite_type, else 'unmatched' with the reason.
-- Quarantined rows are kept (with their quarantine_reason), so this model is the universe
-- of keys fct_reservation_history compares against when it rebuilds partitions.
with

reservations as (
    select * from {{ ref('int_reservations_checked') }}
),

resources as (
    select * from {{ ref('stg_app__resources') }}
),

normalized as (
    select
        reservations.*,
        resources.suite_type as resource_suite_type,
        {{ normalize_suite_type('reservations.requested_suite_type') }} as requested_suite_type_code
    from reservations
    left join resources
        on reservations.tenant_id = resources.tenant_id
        and reservations.resource_id = resources.resource_id
),

final as (
    select
        normalized.*,
        coalesce(resource_suite_type, requested_suite_type_code, 'unmatched') as suite_type,
        case
            when resource_suite_type is not null then 'resource'
            when requested_suite_type_code is not null then 'requested'
            else 'unmatched'
        end as suite_type_source,
        case
            when resource_suite_type is not null or requested_suite_type_code is not null then null
            when nullif(btrim(requested_suite_type), '') is null then 'no resource assigned and no suite type requested'
            else 'no resource assigned and requested suite type not recognised'
        end as unmatched_reason
    from normalized
)

select * from final
