{#-
    The run date of the last build, one row. A relation whose SQL must stay the same from one
    night to the next reads the date from here instead of having it written into its text:
    rpt_current_occupancy, a materialized view, is then refreshed CONCURRENTLY every night
    (readers keep the old rows) where a new text made it replaced (built aside and swapped
    in by rename, under an ACCESS EXCLUSIVE lock). Synced in place, never dropped: a
    materialized view reading it would go with it.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='sync',
        unique_key='run_date',
        indexes=[{'columns': ['run_date'], 'unique': True}],
    )
}}

select {{ run_date() }} as run_date
