{#-
    Incremental strategy `sync`: the target ends up equal to the model's full query, changed
    row by row (DELETE of vanished keys, INSERT ... ON CONFLICT DO UPDATE of new and changed
    rows) instead of being swapped for a new table. The relation is never dropped, so
    relations built on it (the leaderboard materialized views) survive and can be refreshed
    CONCURRENTLY, and readers are never blocked: every reporting table is built this way (a
    swap for a new table takes an ACCESS EXCLUSIVE lock, which waits for every query on the
    table and holds up every query after it). Needs the unique index the model declares.
-#}
{% macro get_incremental_sync_sql(arg_dict) -%}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set keys = arg_dict["unique_key"] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- if not keys -%}
        {{ exceptions.raise_compiler_error("incremental_strategy sync needs a unique_key (" ~ target ~ ")") }}
    {%- endif -%}
    {%- set names = arg_dict["dest_columns"] | map(attribute="name") | list -%}
    {%- set quoted = {} -%}
    {%- for name in names + keys -%}{%- do quoted.update({name: adapter.quote(name)}) -%}{%- endfor -%}
    {%- set updated = names | reject("in", keys) | list -%}
    {%- if not kw_has_unique_index(target, keys) %}
    {#- a table built before by another materialization (the model's declared indexes are
        created with the table): ON CONFLICT needs the key's index, so it is added here; a
        duplicate key in the table fails the build, naming the index -#}
    {{ log(target ~ ": no unique index on (" ~ keys | join(", ") ~ "); creating it", info=True) }}
    create unique index if not exists {{ adapter.quote(target.identifier ~ '__kw_sync_key') }}
        on {{ target }} ({% for key in keys %}{{ quoted[key] }}{% if not loop.last %}, {% endif %}{% endfor %});
    {%- endif %}
    delete from {{ target }} as current
    where not exists (
        select from {{ source }} as wanted
        where {% for key in keys %}wanted.{{ quoted[key] }} = current.{{ quoted[key] }}{% if not loop.last %} and {% endif %}{% endfor %}
    );

    insert into {{ target }} as current ({% for name in names %}{{ quoted[name] }}{% if not loop.last %}, {% endif %}{% endfor %})
    select {% for name in names %}{{ quoted[name] }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ source }}
    on conflict ({% for key in keys %}{{ quoted[key] }}{% if not loop.last %}, {% endif %}{% endfor %}) do update set
        {% for name in updated -%}
        {{ quoted[name] }} = excluded.{{ quoted[name] }}{% if not loop.last %},{% endif %}
        {% endfor -%}
    where ({% for name in updated %}current.{{ quoted[name] }}{% if not loop.last %}, {% endif %}{% endfor %})
        is distinct from ({% for name in updated %}excluded.{{ quoted[name] }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
