{#-
    Row-level security and grants for one relation, re-applied by a post-hook every time
    dbt rebuilds it (a rebuild replaces the relation, and with it its policies and grants).
    Post-hooks run inside the model's transaction, so readers never see the new relation
    without its policies. A table patched in place (not rebuilt) keeps its policies: when RLS
    is on and the policies carry the fingerprint of the current policy text, they are left
    alone, since ALTER TABLE ... ROW LEVEL SECURITY would wait for every reader (grants and
    comments do not); likewise a view's security_invoker, a `_for_tenant` view and the
    readers' privileges already in place are left alone. What is in place is read in one
    catalog query (kw_access_states).

    * tables with tenant_id (a model's change log too): RLS enabled AND forced (the owner is
      filtered too);
      the transformer sees every row (builds), analyst and finance_reader every row,
      tenant analysts only the tenants their role is a member of (security.tenant_members);
    * views: security_invoker, so the caller's own grants and policies apply underneath;
    * materialized views cannot carry RLS: they are granted to analyst / finance_reader
      only, and tenant analysts read them through the `<name>_for_tenant` view that
      apply_access creates (security_barrier, filtered by role membership).
-#}
{% macro apply_access(relation=this) -%}
    {%- if execute -%}
    {#- a model's change log (change_log.sql) holds its rows' columns, tenant_id among them
        (the reservation history's): the same rules as the model's relation; what is in place
        on both is read in one query -#}
    {%- set relations = [relation] -%}
    {%- if relation == this and config.get('materialized') in ('patched_by_key', 'partitioned_by_month') -%}
        {%- do relations.append(kw_change_log(relation)) -%}
    {%- endif -%}
    {%- set states = kw_access_states(relations) -%}
    {%- for each in relations %}
    {{ kw_access_sql(each, states[loop.index0]) }}
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#- The statements apply_access needs for one relation, given what is in place (`state`). -#}
{% macro kw_access_sql(relation, state) -%}
    {%- set materialized = config.get('materialized') -%}
    {%- set readers = kennelworks_readers(relation) -%}
    {%- set granted = readers | reject('equalto', 'tenant_analyst') | list
        if materialized == 'materialized_view' else readers -%}
    {%- set has_tenant = state['has_tenant'] -%}
    {%- if materialized == 'view' %}
    {%- if not state['security_invoker'] %}
    alter view {{ relation }} set (security_invoker = true);
    {%- endif %}
    {%- elif materialized == 'materialized_view' %}
    {%- if has_tenant and 'tenant_analyst' in readers %}
    {%- set for_tenant = relation.schema ~ '.' ~ relation.identifier ~ '_for_tenant' %}
    {%- set for_tenant_sql = 'create or replace view ' ~ for_tenant ~ ' with (security_barrier = true) as'
        ~ ' select * from ' ~ relation ~ ' where tenant_id in (select security.current_tenant_ids())' %}
    {#- created again only when missing (it goes with a replaced materialized view) or
        different: replacing a view waits for its readers and makes later ones wait -#}
    {%- if state['for_tenant_comment'] != kw_sql_fingerprint(for_tenant_sql) %}
    {{ for_tenant_sql }};
    comment on view {{ for_tenant }} is '{{ kw_sql_fingerprint(for_tenant_sql) }}';
    {%- endif %}
    grant select on {{ for_tenant }} to tenant_analyst;
    {%- endif %}
    {%- elif has_tenant and not state['policies_in_place'] %}
    {{ kw_tenant_policies(relation) }}
    comment on policy tenant_rows on {{ relation }} is '{{ kw_policies_fingerprint() }}';
    {%- endif %}

    {#- the readers' privileges, set only when they are not exactly SELECT for each reader
        (statements cost dbt about 10 ms each, on every model of every build) -#}
    {%- if state['reader_grants'] != kw_reader_grants(granted) %}
    revoke all on {{ relation }} from {{ kw_reader_roles() | join(', ') }};
    {%- for role in granted %}
    grant select on {{ relation }} to {{ role }};
    {%- endfor %}
    {%- endif %}
{%- endmacro %}


{#- The roles whose privileges apply_access sets on every relation. -#}
{% macro kw_reader_roles() %}
    {{ return(['analyst', 'finance_reader', 'tenant_analyst']) }}
{% endmacro %}


{#- The readers' privileges as kw_access_states lists them: `role:PRIVILEGE`, sorted, comma-separated. -#}
{% macro kw_reader_grants(roles) %}
    {%- set grants = [] -%}
    {%- for role in roles | sort -%}{%- do grants.append(role ~ ':SELECT') -%}{%- endfor -%}
    {{ return(grants | join(',')) }}
{% endmacro %}


{#- What apply_access needs to know of each of `relations`, in one catalog query, in their
    order: whether it has tenant_id (pg_attribute, not information_schema, which omits
    materialized views), is a security_invoker view, carries the policies of the current text
    (RLS enabled and forced, kw_policies_fingerprint), which privileges the reader roles hold
    on it, and the comment on its `_for_tenant` view. -#}
{% macro kw_access_states(relations) %}
    {%- set rows = run_query(
        "select exists (select from pg_attribute where attrelid = c.oid and attname = 'tenant_id' and not attisdropped),"
        ~ " coalesce('security_invoker=true' = any(c.reloptions), false),"
        ~ " c.relrowsecurity and c.relforcerowsecurity and exists (select from pg_policy as p"
        ~ " where p.polrelid = c.oid and p.polname = 'tenant_rows'"
        ~ " and obj_description(p.oid, 'pg_policy') = '" ~ kw_policies_fingerprint() ~ "'),"
        ~ " coalesce((select string_agg(r.rolname || ':' || a.privilege_type, ',' order by r.rolname, a.privilege_type)"
        ~ " from aclexplode(c.relacl) as a join pg_roles as r on r.oid = a.grantee"
        ~ " where r.rolname in ('" ~ kw_reader_roles() | join("', '") ~ "')), ''),"
        ~ " obj_description(to_regclass(format('%I.%I', (select nspname from pg_namespace where oid = c.relnamespace), c.relname || '_for_tenant')), 'pg_class')"
        ~ " from unnest(array['" ~ relations | join("', '") ~ "']) with ordinality as named(relation, n)"
        ~ " join pg_class as c on c.oid = named.relation::regclass order by named.n").rows -%}
    {%- set states = [] -%}
    {%- for row in rows -%}
        {%- do states.append({'has_tenant': row[0], 'security_invoker': row[1], 'policies_in_place': row[2], 'reader_grants': row[3],
            'for_tenant_comment': row[4]}) -%}
    {%- endfor -%}
    {{ return(states) }}
{% endmacro %}


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
