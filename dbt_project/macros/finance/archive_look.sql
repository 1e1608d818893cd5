{#-
    How much of the ledger the archive (archive.financial_transactions) has to look at.

    Each build appends the ledger entries that are completed and older than 12 months and not
    archived yet. Looking for them in the whole ledger cost an anti-join of the ledger with the
    whole archive every night (0.6 s at scale 1, 3.3 s at scale 3). Such an entry is either
    * unchanged since the archive's previous build: it was not archived then, so it was open
      or recent, and being unchanged it is still the same entry; it sits in the live ledger
      (ledger minus archive, built after the archive, so as of the previous build) with an
      occurred_on that is now before the cut-off; or
    * re-derived by the ledger since: its source_id is in int_ledger_changes past the ledger's
      watermark that the archive's previous build recorded (the ledger's patches re-derive
      exactly the keys changed past their watermark, so the recorded one covers them all).
    A full build of the ledger since then (its `full_build` marker changed) may have changed
    any entry: the archive looks at the whole ledger, as on its first build.
-#}

{#- {'watermark': the ledger watermark recorded by the previous build, 'live': the live ledger}
    when the archive may look at those two kinds of entries only, else none. -#}
{% macro kw_archive_narrow_look(ledger, live_model) %}
    {%- if not execute or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set live = kw_relation_of(live_model) -%}
    {%- set record = kw_record(this) -%}
    {%- set watermark = record.get('ledger_watermark') -%}
    {%- if live is none or watermark is none or record.get('ledger_full_build') != (kw_recorded(ledger, 'full_build') or 'unknown') -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'watermark': watermark, 'live': live}) }}
{% endmacro %}


{#- Post-hook: records the ledger's watermark and full build as this build saw them, and how
    much of the ledger it looked at (for operators and tests). -#}
{% macro kw_archive_record_look(ledger, live_model) %}
    {%- if execute -%}
        {%- set looked = 'changed' if kw_archive_narrow_look(ledger, live_model) else 'all' -%}
        {%- set ledger_record = kw_record(ledger) -%}
        comment on table {{ this }} is 'kennelworks archive: ledger_watermark={{ ledger_record.get("watermark") or "-infinity" }}; ledger_full_build={{ ledger_record.get("full_build") or "unknown" }}; looked={{ looked }}'
    {%- endif -%}
{% endmacro %}


{#- The relation of a model by name, or none when it does not exist yet: for a model this one
    must not ref() (the live ledger is built from the archive). -#}
{% macro kw_relation_of(model_name) %}
    {%- set node = graph.nodes.values() | selectattr("name", "equalto", model_name) | first -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}
