-- Triggers of the operational app: updated_at maintenance and the audit trail.
-- Applied by pipelines/source/create.py after the tables; idempotent.

create or replace function app.touch_updated_at() returns trigger
language plpgsql as $$
begin
    -- the app may set updated_at itself (it does for late commits); otherwise stamp it
    if new.updated_at is not distinct from old.updated_at then
        new.updated_at := now();
    end if;
    return new;
end;
$$;

create or replace function app.write_audit_log() returns trigger
language plpgsql as $$
declare
    row_data jsonb := case when tg_op = 'DELETE' then to_jsonb(old) else to_jsonb(new) end;
    record_key uuid := coalesce(row_data ->> 'id', row_data ->> 'customer_id', row_data ->> 'team_id')::uuid;
    tenant uuid := coalesce(row_data ->> 'tenant_id', case when tg_table_name = 'tenants' then row_data ->> 'id' end)::uuid;
begin
    insert into app.audit_log (tenant_id, table_name, record_id, action, changed_by, changed_at,
                               old_values, new_values, created_at, updated_at)
    values (
        tenant, tg_table_name, record_key, tg_op,
        coalesce(nullif(current_setting('app.user', true), ''), current_user),
        now(),
        case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) end,
        case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) end,
        now(), now()
    );
    return null;
end;
$$;
