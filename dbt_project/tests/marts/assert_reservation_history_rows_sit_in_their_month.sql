-- Every row of fct_reservation_history sits in the partition of its start_date's month
-- (or in the default partition when that month has none): a failed or half-done swap
-- would show up here.
{%- set history = ref('fct_reservation_history') %}

with

placed as (
    select
        history.reservation_id,
        history.start_date,
        partitions.relname::text as partition_name
    from {{ history }} as history
    inner join pg_class as partitions
        on history.tableoid = partitions.oid
),

misplaced as (
    select *
    from placed
    where partition_name <> '{{ history.identifier }}_p' || to_char(start_date, 'YYYYMM')
        and partition_name <> '{{ history.identifier }}_default'
)

select * from misplaced
