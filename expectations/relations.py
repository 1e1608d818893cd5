"""The references between source tables that data quality follows (DESIGN.md §2).

One list, used by the orphan and the tenant-isolation suites, on raw and on marts.
A reference is named `<child>_<parent column stem>` in the singular ("pet_customer",
"reservation_pet"), which is also how the generator names the anomalies it injects
("orphan_pet_customer", "cross_tenant_reservation_pet").
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.source.schema import metadata, primary_key

SINGULAR = {
    "activities": "activity",
    "customer_achievements": "customer_achievement",
    "customer_stats": "customer_stats",
    "invoice_lines": "invoice_line",
    "team_progress": "team_progress",
}


@dataclass(frozen=True)
class Reference:
    """`child.column` points at `parent`'s primary key."""

    child: str
    column: str
    parent: str

    @property
    def label(self) -> str:
        singular = SINGULAR.get(self.child, self.child.removesuffix("s"))
        return f"{singular}_{self.column.removesuffix('_id')}"

    @property
    def nullable(self) -> bool:
        return metadata.tables[f"app.{self.child}"].c[self.column].nullable


# Across bounded contexts (no foreign key in the source) or where a soft-deleted parent
# can leave a live child behind: the relations the orphan suites check.
ORPHAN_REFERENCES = (
    Reference("pets", "customer_id", "customers"),
    Reference("reservations", "pet_id", "pets"),
    Reference("reservations", "customer_id", "customers"),
    Reference("reservations", "resource_id", "resources"),
    Reference("reservations", "service_id", "services"),
    Reference("invoices", "customer_id", "customers"),
    Reference("invoices", "reservation_id", "reservations"),
    Reference("activities", "customer_id", "customers"),
    Reference("activities", "team_id", "teams"),
    Reference("team_members", "team_id", "teams"),
    Reference("team_members", "customer_id", "customers"),
    Reference("customer_stats", "customer_id", "customers"),
    Reference("customer_achievements", "customer_id", "customers"),
)

# No foreign key checks that parent and child share a tenant, so isolation also follows
# the in-context foreign keys of the money trail and the engagement tables.
TENANT_REFERENCES = ORPHAN_REFERENCES + (
    Reference("invoice_lines", "invoice_id", "invoices"),
    Reference("payments", "invoice_id", "invoices"),
    Reference("refunds", "payment_id", "payments"),
    Reference("team_progress", "team_id", "teams"),
    Reference("customer_achievements", "achievement_id", "achievements"),
)


def key_column(table: str) -> str:
    """The single-column primary key of a source table."""
    (column,) = primary_key(metadata.tables[f"app.{table}"])
    return column


def raw_is_live(table: str, alias: str) -> str:
    """SQL predicate: the raw row is neither soft-deleted nor hard-deleted in the source."""
    predicate = f"{alias}._deleted_in_source_at is null"
    if "deleted_at" in metadata.tables[f"app.{table}"].c:
        predicate += f" and {alias}.deleted_at is null"
    return predicate


@dataclass(frozen=True)
class Mart:
    """The mart that holds a source table's trusted rows (deleted ones flagged `is_deleted`)."""

    relation: str
    key: str


# Source tables that have a mart of their own, one row per source row that passed the
# integrity checks (dbt_project/models/marts). Columns keep the source's reference names.
MARTS = {
    "customers": Mart("marts.dim_customers", "customer_id"),
    "pets": Mart("marts.dim_pets", "pet_id"),
    "resources": Mart("marts.dim_resources", "resource_id"),
    "reservations": Mart("marts.fct_reservation_history", "reservation_id"),
    "teams": Mart("marts.dim_teams", "team_id"),
    "activities": Mart("marts.fct_activities", "activity_id"),
    "invoices": Mart("marts.fct_invoices", "invoice_id"),
    "payments": Mart("marts.fct_payments", "payment_id"),
    "refunds": Mart("marts.fct_refunds", "refund_id"),
}


def in_marts(references: tuple[Reference, ...]) -> tuple[Reference, ...]:
    """The references whose child and parent both have a mart."""
    return tuple(r for r in references if r.child in MARTS and r.parent in MARTS)


@dataclass(frozen=True)
class Layer:
    """Where a layer keeps each source table's rows: relation, key column, liveness."""

    name: str

    def has(self, table: str) -> bool:
        return self.name == "raw" or table in MARTS

    def relation(self, table: str) -> str:
        return f"raw.{table}" if self.name == "raw" else MARTS[table].relation

    def key(self, table: str) -> str:
        return key_column(table) if self.name == "raw" else MARTS[table].key

    def is_live(self, table: str, alias: str) -> str:
        """SQL predicate: the row is neither soft- nor hard-deleted (marts flag both in is_deleted)."""
        return raw_is_live(table, alias) if self.name == "raw" else f"not {alias}.is_deleted"


RAW, MART = Layer("raw"), Layer("marts")
