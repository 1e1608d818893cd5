-- One row per customer that passed the integrity checks (deleted ones included, flagged).
-- E-mail and phone are left out on purpose: they never reach marts in clear text.
with

customers as (
    select * from {{ ref('int_customers_checked') }}
),

final as (
    select
        customer_id,
        tenant_id,
        first_name,
        last_name,
        is_deleted,
        created_at,
        updated_at
    from customers
    where quarantine_reason is null
)

select * from final
