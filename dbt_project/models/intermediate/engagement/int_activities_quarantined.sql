-- The activities int_activities_checked keeps out of the marts, with their reason: what
-- dq.quarantined_rows lists for raw.activities. Patched by key (int_activity_changes): a
-- build re-checks only the activities whose row, customer, team or pet changed, where
-- quarantined_rows read the check over every activity each night (4-5 s at scale 1, 19 s
-- at scale 3). An activity that became clean leaves the table in the patch. Its change log
-- keeps each activity's customer, old and new: rpt_stats_reconciliation compares again the
-- customers whose quarantined activities changed.
{{ config(
    materialized='patched_by_key',
    unique_key='activity_id',
    changes_from='int_activity_changes',
    log_changes_of=['customer_id'],
    indexes=[{'columns': ['activity_id'], 'unique': True}],
) }}
-- depends_on: {{ ref('int_activity_changes') }}

{{ kw_quarantined_rows_of(ref('int_activities_checked'), 'activity_id', ['customer_id']) }}
