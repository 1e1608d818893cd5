-- Every row of fct_reservation_history sits in the partition of its start_date's month (or in
-- the default partition when that month has none). PostgreSQL keeps each row inside its
-- partition's bounds, and out of the default partition for any month that has a partition of
-- its own, so that holds exactly when each partition's bounds are the month its name says: the
-- catalog is checked instead of the million rows (0.5 s at scale 1 on every build). A partition
-- attached with the wrong bounds, or left under a name that is not a month, fails here.
{%- set history = ref('fct_reservation_history') %}

with

partitions as (
    select
        child.relname::text as partition_name,
        pg_get_expr(child.relpartbound, child.oid) as bounds
    from pg_inherits as inheritance
    inner join pg_class as child
        on inheritance.inhrelid = child.oid
    where inheritance.inhparent = to_regclass('{{ history }}')
),

named as (
    select
        partition_name,
        bounds,
        substring(partition_name from '^{{ history.identifier }}_p([0-9]{4}(?:0[1-9]|1[0-2]))$') as named_month
    from partitions
),

expected as (
    select
        partition_name,
        bounds,
        case
            when partition_name = '{{ history.identifier }}_default' then 'DEFAULT'
            when named_month is not null then format(
                'FOR VALUES FROM (%L) TO (%L)',
                to_date(named_month, 'YYYYMM')::text,
                (to_date(named_month, 'YYYYMM') + interval '1 month')::date::text
            )
        end as expected_bounds
    from named
),

misplaced as (
    select partition_name, bounds, expected_bounds
    from expected
    where expected_bounds is distinct from bounds
)

select * from misplaced
