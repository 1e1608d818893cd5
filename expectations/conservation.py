"""Conservation: nothing is lost or made up between layers.

- raw = mart + quarantine, row for row, per source table that has a mart: every landed
  row is either trusted (in the mart, deleted ones flagged) or in dq.quarantined_rows;
- live + archive = ledger, per tenant, in rows and cents: archiving moves entries, it
  never drops or duplicates them. An archived entry whose source row was purged (or
  quarantined) since has left the ledger but stays in the archive, append-only by contract:
  it is outside the comparison. A live entry never is.
"""

from __future__ import annotations

from expectations.checks import Check, Severity, Suite
from expectations.relations import MARTS

CONCERN = "conservation"


def rows_check(table: str) -> Check:
    query = f"""
with

raw_rows as (
    select count(*) as row_count from raw.{table}
),

mart_rows as (
    select count(*) as row_count from {{batch}}
),

quarantined_rows as (
    select count(*) as row_count
    from dq.quarantined_rows
    where quarantined_rows.source_table = '{table}'
)

select
    '{table}' as source_table,
    raw_rows.row_count as raw_rows,
    mart_rows.row_count as mart_rows,
    quarantined_rows.row_count as quarantined_rows,
    raw_rows.row_count - mart_rows.row_count - quarantined_rows.row_count as unaccounted_rows
from raw_rows
cross join mart_rows
cross join quarantined_rows
where raw_rows.row_count <> mart_rows.row_count + quarantined_rows.row_count
"""
    return Check(
        name=f"raw_equals_mart_plus_quarantine_{table}",
        query=query.strip(),
        description=f"raw.{table} rows = {MARTS[table].relation} rows + dq.quarantined_rows for {table}",
    )


def ledger_check() -> Check:
    query = """
with

live_and_archive as (
    select tenant_id, transaction_id, amount_cents from {batch}
    union all
    select archived.tenant_id, archived.transaction_id, archived.amount_cents
    from archive.financial_transactions as archived
    -- kept after its source left the ledger (see the module's docstring)
    where exists (
        select from intermediate.int_financial_transactions as ledger
        where ledger.transaction_id = archived.transaction_id
    )
),

split as (
    select tenant_id, count(*) as entries, sum(amount_cents) as cents
    from live_and_archive
    group by tenant_id
),

ledger as (
    select tenant_id, count(*) as entries, sum(amount_cents) as cents
    from intermediate.int_financial_transactions
    group by tenant_id
)

select
    coalesce(split.tenant_id, ledger.tenant_id) as tenant_id,
    coalesce(split.entries, 0) as live_plus_archive_entries,
    coalesce(ledger.entries, 0) as ledger_entries,
    coalesce(split.cents, 0) as live_plus_archive_cents,
    coalesce(ledger.cents, 0) as ledger_cents
from split
full outer join ledger
    on ledger.tenant_id = split.tenant_id
where coalesce(split.entries, 0) <> coalesce(ledger.entries, 0)
    or coalesce(split.cents, 0) <> coalesce(ledger.cents, 0)
"""
    return Check(
        name="live_plus_archive_equals_ledger",
        query=query.strip(),
        description="per tenant, live + archived ledger entries equal the ledger, in rows and cents",
    )


def suites() -> list[Suite]:
    by_mart = [
        Suite(CONCERN, mart.relation, Severity.ERROR, (rows_check(table),)) for table, mart in sorted(MARTS.items())
    ]
    return [*by_mart, Suite(CONCERN, "marts.fct_financial_transactions", Severity.ERROR, (ledger_check(),))]
