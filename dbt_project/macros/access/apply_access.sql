{#-
    Row-level security and grants for one relation, re-applied by a post-hook every time
    dbt rebuilds it (a rebuild replaces the relation, and with it its policies and grants).
    Post-hooks run inside the model's transaction, so readers never see the new relation
    without its policies. A table patched in place (not rebuilt) keeps its policies: when RLS
    is on and the policies carry the fingerprint of the current policy text, they are left
    alone, since ALTER TABLE ... ROW LEVEL SECURITY would wait for every reader (grants and
    comments do not); likewise a view's security_invoker and a `_for_tenant` view already
    in place are left alone.

    * tables with tenant_id: RLS enabled AND forced (the owner is filtered too);
      the transformer sees every row (builds), analyst and finance_reader every row,
      tenant analysts only the tenants their role is a member of (security.tenant_members);
    * views: security_invoker, so the caller's own grants and policies apply underneath;
    * materialized views cannot carry RLS: they are granted to analyst / finance_reader
      only, and tenant analysts read them through the `<name>_for_tenant` view that
      apply_access creates (security_barrier, filtered by role membership).
-#}
{% macro apply_access(relation=this) -%}
    {%- if execute -%}
    {%- set materialized = config.get('materialized') -%}
    {%- set schema = relation.schema -%}
    {%- set readers = kennelworks_readers(relation) -%}
    {#- pg_attribute, not information_schema (which omits materialized views) -#}
    {%- set has_tenant = run_query(
        "select 1 from pg_attribute where attrelid = '" ~ relation ~ "'::regclass and attname = 'tenant_id' and not attisdropped"
    ).rows | length > 0 -%}

    {%- if materialized == 'view' %}
    {%- if not kw_is_security_invoker(relation) %}
    alter view {{ relation }} set (security_invoker = true);
    {%- endif %}
    {%- elif materialized == 'materialized_view' %}
    {%- if has_tenant and 'tenant_analyst' in readers %}
    {%- set for_tenant = relation.schema ~ '.' ~ relation.identifier ~ '_for_tenant' %}
    {%- set for_tenant_sql = 'create or replace view ' ~ for_tenant ~ ' with (security_barrier = true) as'
        ~ ' select * from ' ~ relation ~ ' where tenant_id in (select security.current_tenant_ids())' %}
    {#- created again only when missing (it goes with a replaced materialized view) or
        different: replacing a view waits for its readers and makes later ones wait -#}
    {%- if kw_comment(for_tenant) != kw_sql_fingerprint(for_tenant_sql) %}
    {{ for_tenant_sql }};
    comment on view {{ for_tenant }} is '{{ kw_sql_fingerprint(for_tenant_sql) }}';
    {%- endif %}
    grant select on {{ for_tenant }} to tenant_analyst;
    {%- endif %}
    {%- elif has_tenant and not kw_policies_in_place(relation) %}
    {{ kw_tenant_policies(relation) }}
    comment on policy tenant_rows on {{ relation }} is '{{ kw_policies_fingerprint() }}';
    {%- endif %}

    revoke all on {{ relation }} from analyst, finance_reader, tenant_analyst;
    {%- for role in readers %}
    {%- if not (role == 'tenant_analyst' and materialized == 'materialized_view') %}
    grant select on {{ relation }} to {{ role }};
    {%- endif %}
    {%- endfor %}
    {%- endif -%}
{%- endmacro %}


{#- Who may read a relation: one rule, by schema and name. -#}
{% macro kennelworks_readers(relation) -%}
    {%- set finance = relation.identifier in var('finance_relations') -%}
    {%- set readers = [] -%}
    {#- marts too: reporting views are security_invoker, so their readers need the marts
        underneath (row-level security still limits tenant analysts to their rows) -#}
    {%- if relation.schema in ('reporting', 'marts') -%}
        {%- do readers.extend(['analyst', 'tenant_analyst']) -%}
    {%- endif -%}
    {%- if finance -%}
        {%- do readers.append('finance_reader') -%}
    {%- endif -%}
    {{ return(readers) }}
{%- endmacro %}


{#- The row-level security of a table with tenant_id (see apply_access). -#}
{% macro kw_tenant_policies(relation) -%}
    alter table {{ relation }} enable row level security;
    alter table {{ relation }} force row level security;
    drop policy if exists transformer_all on {{ relation }};
    create policy transformer_all on {{ relation }} to warehouse_transformer using (true) with check (true);
    drop policy if exists readers_all on {{ relation }};
    create policy readers_all on {{ relation }} for select to analyst, finance_reader using (true);
    drop policy if exists tenant_rows on {{ relation }};
    create policy tenant_rows on {{ relation }} for select to tenant_analyst
        using (tenant_id in (select security.current_tenant_ids()));
{%- endmacro %}


{% macro kw_policies_fingerprint() -%}
    kennelworks policies {{ local_md5(kw_tenant_policies('relation')) }}
{%- endmacro %}


{#- A view that runs with its caller's privileges and row-level security already. -#}
{% macro kw_is_security_invoker(relation) -%}
    {{ return(kw_scalar(
        "select coalesce('security_invoker=true' = any(reloptions), false) from pg_class"
        ~ " where oid = '" ~ relation ~ "'::regclass")) }}
{%- endmacro %}


{#- RLS enabled and forced, and the policies of the current text (fingerprint) in place. -#}
{% macro kw_policies_in_place(relation) -%}
    {{ return(kw_scalar(
        "select relation.relrowsecurity and relation.relforcerowsecurity"
        ~ " and obj_description(policy.oid, 'pg_policy') = '" ~ kw_policies_fingerprint() ~ "'"
        ~ " from pg_class as relation join pg_policy as policy on policy.polrelid = relation.oid"
        ~ " and policy.polname = 'tenant_rows' where relation.oid = '" ~ relation ~ "'::regclass") or false) }}
{%- endmacro %}
