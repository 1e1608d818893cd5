"""SQL that finds every anomaly kind in the source data: the check that the manifest is exact.

Independent of the generator's own bookkeeping: it looks only at the rows. An orphan is
a live child (deleted_at null, where the table has one) whose parent is missing or
soft-deleted; a cross-tenant reference joins rows of two tenants; drifted stats differ
from the sums over non-deleted activities (DESIGN.md §2 and pipelines/source/build_engagement.py).
"""

from __future__ import annotations

from collections import defaultdict

import psycopg

from pipelines.source.schema import SUITE_TYPES, metadata

# (child table, column, parent table, anomaly kind expected there or None)
RELATIONS = (
    ("pets", "customer_id", "customers", "orphan_pet_customer"),
    ("reservations", "customer_id", "customers", None),
    ("reservations", "pet_id", "pets", "orphan_reservation_pet"),
    ("reservations", "resource_id", "resources", None),
    ("reservations", "service_id", "services", None),
    ("invoices", "customer_id", "customers", None),
    ("invoices", "reservation_id", "reservations", None),
    ("invoice_lines", "invoice_id", "invoices", None),
    ("invoice_lines", "service_id", "services", None),
    ("payments", "invoice_id", "invoices", None),
    ("refunds", "payment_id", "payments", None),
    ("team_members", "team_id", "teams", "orphan_team_member_team"),
    ("team_members", "customer_id", "customers", None),
    ("activities", "customer_id", "customers", "orphan_activity_customer"),
    ("activities", "team_id", "teams", None),
    ("activities", "pet_id", "pets", None),
    ("customer_stats", "customer_id", "customers", None),
    ("team_progress", "team_id", "teams", None),
    ("customer_achievements", "customer_id", "customers", None),
    ("customer_achievements", "achievement_id", "achievements", None),
)
CROSS_TENANT = {
    ("reservations", "pet_id"): "cross_tenant_reservation_pet",
    ("reservations", "customer_id"): "cross_tenant_reservation_customer",
    ("reservations", "resource_id"): "cross_tenant_reservation_resource",
}

# kind -> SQL returning (table, key) of the rows that show it
KIND_QUERIES = {
    "drifted_customer_stats": """
        select 'customer_stats', s.customer_id::text from app.customer_stats s
        left join (
            select customer_id, sum(distance_m) as distance, sum(duration_s) as duration, count(*) as n,
                   max(activity_date) as last_date
            from app.activities where deleted_at is null group by customer_id
        ) a on a.customer_id = s.customer_id
        where (s.total_distance_m, s.total_duration_s, s.activity_count, s.last_activity_date)
              is distinct from (coalesce(a.distance, 0), coalesce(a.duration, 0), coalesce(a.n, 0), a.last_date)
    """,
    "drifted_team_progress": """
        select 'team_progress', p.team_id::text from app.team_progress p
        left join (select team_id, sum(distance_m) as distance from app.activities
                   where deleted_at is null and team_id is not null group by team_id) a on a.team_id = p.team_id
        left join (select team_id, count(*) as members from app.team_members where left_at is null
                   group by team_id) m on m.team_id = p.team_id
        where (p.total_distance_m, p.member_count) is distinct from (coalesce(a.distance, 0), coalesce(m.members, 0))
    """,
    "suite_type_label_variant": f"""
        select 'reservations', id::text from app.reservations
        where requested_suite_type not in ({", ".join(f"'{code}'" for code in SUITE_TYPES)})
           or requested_suite_type is null
    """,
    "end_before_start": "select 'reservations', id::text from app.reservations where end_date <= start_date",
    "negative_amount": """
        select 'payments', id::text from app.payments where amount_cents < 0
        union all select 'invoices', id::text from app.invoices
        where least(subtotal_cents, tax_cents, total_cents) < 0
        union all select 'invoice_lines', id::text from app.invoice_lines
        where least(unit_price_cents, amount_cents) < 0
        union all select 'refunds', id::text from app.refunds where amount_cents <= 0
    """,
    "overpayment": """
        select 'payments', p.id::text from app.payments p
        join (select invoice_id from app.payments pp join app.invoices i on i.id = pp.invoice_id
              where pp.status = 'succeeded' group by invoice_id, i.total_cents
              having sum(pp.amount_cents) > i.total_cents) over on over.invoice_id = p.invoice_id
        where p.status = 'succeeded'
        union all select 'refunds', f.id::text from app.refunds f join app.payments p on p.id = f.payment_id
        group by f.id, p.amount_cents having sum(f.amount_cents) > p.amount_cents
    """,
    "odd_text": r"""
        select 'customers', id::text from app.customers
        where first_name ~ '[^ -~]|["\\]' or last_name ~ '[^ -~]|["\\]'
        union all
        select 'reservations', id::text from app.reservations where notes ~ '[^ -~]|["\\]' or length(notes) > 1000
    """,
}


def find_anomalies(conn: psycopg.Connection) -> dict[str, set[tuple[str, str]]]:
    """Every anomaly the data shows, by kind, as (table, key) pairs; relations that should
    hold no anomaly report under a descriptive name (e.g. "orphan invoices.customer_id")."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for child, column, parent, kind in RELATIONS:
        child_key = "id" if child not in ("customer_stats", "team_progress") else column
        child_live = "and c.deleted_at is null" if "deleted_at" in metadata.tables[f"app.{child}"].c else ""
        parent_gone = "or p.deleted_at is not null" if "deleted_at" in metadata.tables[f"app.{parent}"].c else ""
        found[kind or f"orphan {child}.{column}"] |= set(
            conn.execute(f"""
            select '{child}', c.{child_key}::text from app.{child} c left join app.{parent} p on p.id = c.{column}
            where c.{column} is not null {child_live} and (p.id is null {parent_gone})""").fetchall()
        )
        found[CROSS_TENANT.get((child, column), f"cross-tenant {child}.{column}")] |= set(
            conn.execute(f"""
            select '{child}', c.{child_key}::text from app.{child} c join app.{parent} p on p.id = c.{column}
            where p.tenant_id <> c.tenant_id""").fetchall()
        )
    for kind, sql in KIND_QUERIES.items():
        found[kind] |= set(conn.execute(sql).fetchall())
    return {kind: rows for kind, rows in found.items() if rows}


def manifest_mismatches(conn: psycopg.Connection, entries: list[dict]) -> list[str]:
    """Differences between the manifest and the data; empty when the manifest is exact."""
    recorded: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for entry in entries:
        recorded[entry["anomaly"]].add((entry["table"], entry["key"]))
    found = find_anomalies(conn)
    problems = []
    for kind in sorted(set(found) | set(recorded)):
        missing, unrecorded = recorded[kind] - found.get(kind, set()), found.get(kind, set()) - recorded[kind]
        if missing:
            problems.append(f"{kind}: {len(missing)} recorded but not in the data, e.g. {sorted(missing)[0]}")
        if unrecorded:
            problems.append(f"{kind}: {len(unrecorded)} in the data but not recorded, e.g. {sorted(unrecorded)[0]}")
    return problems
