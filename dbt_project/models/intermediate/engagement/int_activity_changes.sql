-- Every cause that can change an activity's check, with when it changed: the activity row
-- itself, or its customer, team or pet. fct_activities re-derives the activities changed
-- since its last build from this (macro kw_change_causes); filtering int_activities_checked
-- on its changed_at instead evaluated the whole check (2.3-3.6 s at scale 1, now 1.4 s).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__activities'), 'activity_id', [
    {'relation': ref('int_customer_changes'), 'on': 'customer_id'},
    {'relation': ref('int_teams_checked'), 'on': 'team_id'},
    {'relation': ref('int_pet_changes'), 'on': 'pet_id'},
]) }}
