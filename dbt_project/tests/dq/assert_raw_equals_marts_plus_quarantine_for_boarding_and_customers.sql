-- Conservation: for every mart built from one source table, raw rows = mart rows +
-- quarantined rows. Returns the tables where that does not hold.
{%- set pairs = [
    ('customers', 'dim_customers'),
    ('pets', 'dim_pets'),
    ('resources', 'dim_resources'),
    ('reservations', 'fct_reservation_history'),
] %}

with

counts as (
    {%- for table, mart in pairs %}
    select
        '{{ table }}' as source_table,
        (select count(*) from {{ source('app', table) }}) as raw_rows,
        (select count(*) from {{ ref(mart) }}) as mart_rows,
        (select count(*) from {{ ref('quarantined_rows') }} where source_table = '{{ table }}') as quarantined_rows
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

broken as (
    select *
    from counts
    where raw_rows <> mart_rows + quarantined_rows
)

select * from broken
