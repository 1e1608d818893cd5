-- Every cause that can change an activity's check, with when it changed: the activity row
-- itself, or its customer, team or pet. fct_activities re-derives the activities changed since
-- its last build from this (see int_reservation_changes for the pattern). A branch whose
-- parents did not change costs nothing: its hash join finds no changed parent and never
-- scans the 3M activities; filtering int_activities_checked on its changed_at instead
-- evaluated the whole check (2.3-3.6 s at scale 1).
{{ config(materialized='view') }}

with

activities as not materialized (
    select * from {{ ref('stg_app__activities') }}
),

causes as (
    select activity_id, greatest(extracted_at, deleted_in_source_at) as changed_at
    from activities
    union all
    select activities.activity_id, customers.changed_at
    from activities
    inner join {{ ref('int_customers_checked') }} as customers
        on activities.customer_id = customers.customer_id
    union all
    select activities.activity_id, teams.changed_at
    from activities
    inner join {{ ref('int_teams_checked') }} as teams
        on activities.team_id = teams.team_id
    union all
    select activities.activity_id, pets.changed_at
    from activities
    inner join {{ ref('int_pets_checked') }} as pets
        on activities.pet_id = pets.pet_id
)

select * from causes
