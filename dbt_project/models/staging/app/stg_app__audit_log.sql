with

source as (
    select * from {{ source('app', 'audit_log') }}
),

renamed as (
    select
        id as audit_log_id,
        tenant_id,
        table_name,
        record_id,
        action,
        changed_by,
        changed_at,
        old_values,
        new_values,
        created_at,
        updated_at,
        _deleted_in_source_at as deleted_in_source_at,
        (_deleted_in_source_at is not null) as is_deleted,
        _extracted_at as extracted_at
    from source
)

select * from renamed
