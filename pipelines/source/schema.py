"""The operational source database (`ops`, schema `app`) as SQLAlchemy Core metadata.

This is our model of the SaaS application's own database (DESIGN.md §2), which the
warehouse pulls from. It is deliberately faithful to the app, warts included:

* foreign keys exist only inside a bounded context (customer, boarding, billing,
  engagement); references across contexts (a reservation's pet, an invoice's
  customer, ...) are plain uuid columns, so orphans really happen;
* no foreign key checks that parent and child share a tenant;
* no CHECK on amounts or date order: the app validates those, and sometimes fails to.

Every table has `created_at`/`updated_at` and an index on `updated_at`, which the
warehouse's incremental pulls rely on; tenant tables lead their indexes with tenant_id.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP, UUID

SCHEMA = "app"
metadata = MetaData(schema=SCHEMA)

NOW = text("now()")


def _ts(name: str, nullable: bool = True, default: bool = False) -> Column:
    return Column(name, TIMESTAMP(timezone=True), nullable=nullable, server_default=NOW if default else None)


def _id() -> Column:
    return Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _tenant() -> Column:
    return Column("tenant_id", UUID(as_uuid=True), nullable=False)


def _stamps() -> list[Column]:
    return [_ts("created_at", nullable=False, default=True), _ts("updated_at", nullable=False, default=True)]


def _in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} in ({listed})", name=f"{column}_valid")


def _fk(column: str, target: str, nullable: bool = False) -> Column:
    return Column(column, UUID(as_uuid=True), ForeignKey(f"{SCHEMA}.{target}"), nullable=nullable)


def _ref(column: str, nullable: bool = False) -> Column:
    """A reference into another bounded context: no foreign key, on purpose."""
    return Column(column, UUID(as_uuid=True), nullable=nullable)


SUITE_TYPES = ("standard", "standard_plus", "luxury", "cat_condo", "daycare")
RESERVATION_STATUSES = ("pending", "confirmed", "checked_in", "checked_out", "cancelled", "no_show")
INVOICE_STATUSES = ("draft", "open", "paid", "void")
PAYMENT_METHODS = ("card", "cash", "ach", "gift_card")
PAYMENT_STATUSES = ("succeeded", "failed", "pending")
SERVICE_CATEGORIES = ("boarding", "daycare", "grooming", "training")
AUDIT_ACTIONS = ("INSERT", "UPDATE", "DELETE")

# -- tenancy ------------------------------------------------------------------
tenants = Table(
    "tenants",
    metadata,
    _id(),
    Column("slug", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("plan", Text, nullable=False),
    *_stamps(),
    _ts("deleted_at"),
)

# -- customer context -----------------------------------------------------------
customers = Table(
    "customers",
    metadata,
    _id(),
    _tenant(),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("email", Text),
    Column("phone", Text),
    *_stamps(),
    _ts("deleted_at"),
    Column("version", Integer, nullable=False, server_default=text("1")),
)

pets = Table(
    "pets",
    metadata,
    _id(),
    _tenant(),
    _fk("customer_id", "customers.id"),
    Column("name", Text, nullable=False),
    Column("species", Text, nullable=False),
    Column("breed", Text),
    Column("birth_date", Date),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    *_stamps(),
    _ts("deleted_at"),
)

# -- boarding context -----------------------------------------------------------
resources = Table(
    "resources",
    metadata,
    _id(),
    _tenant(),
    Column("name", Text, nullable=False),
    Column("suite_type", Text, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    *_stamps(),
    _ts("deleted_at"),
    _in("suite_type", SUITE_TYPES),
)

services = Table(
    "services",
    metadata,
    _id(),
    _tenant(),
    Column("name", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    *_stamps(),
    _ts("deleted_at"),
    _in("category", SERVICE_CATEGORIES),
)

reservations = Table(
    "reservations",
    metadata,
    _id(),
    _tenant(),
    _ref("customer_id"),
    _ref("pet_id"),
    _fk("resource_id", "resources.id", nullable=True),
    _fk("service_id", "services.id"),
    Column("requested_suite_type", Text),
    Column("status", Text, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    _ts("checked_in_at"),
    _ts("checked_out_at"),
    Column("total_cents", BigInteger, nullable=False),
    Column("notes", Text),
    *_stamps(),
    _ts("deleted_at"),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _in("status", RESERVATION_STATUSES),
)

# -- billing context -------------------------------------------------------------
invoices = Table(
    "invoices",
    metadata,
    _id(),
    _tenant(),
    _ref("customer_id"),
    _ref("reservation_id", nullable=True),
    Column("number", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("issued_on", Date),
    Column("due_on", Date),
    Column("subtotal_cents", BigInteger, nullable=False),
    Column("tax_cents", BigInteger, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("currency", Text, nullable=False, server_default=text("'USD'")),
    *_stamps(),
    _ts("deleted_at"),
    _in("status", INVOICE_STATUSES),
    UniqueConstraint("tenant_id", "number", name="invoices_tenant_number_key"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    _id(),
    _tenant(),
    _fk("invoice_id", "invoices.id"),
    _ref("service_id", nullable=True),
    Column("description", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_cents", BigInteger, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    *_stamps(),
)

payments = Table(
    "payments",
    metadata,
    _id(),
    _tenant(),
    _fk("invoice_id", "invoices.id"),
    Column("amount_cents", BigInteger, nullable=False),
    Column("method", Text, nullable=False),
    Column("status", Text, nullable=False),
    _ts("paid_at", nullable=False),
    *_stamps(),
    _in("method", PAYMENT_METHODS),
    _in("status", PAYMENT_STATUSES),
)

refunds = Table(
    "refunds",
    metadata,
    _id(),
    _tenant(),
    _fk("payment_id", "payments.id"),
    Column("amount_cents", BigInteger, nullable=False),
    Column("reason", Text),
    _ts("refunded_at", nullable=False),
    *_stamps(),
)

# -- engagement context ------------------------------------------------------------
teams = Table(
    "teams",
    metadata,
    _id(),
    _tenant(),
    Column("name", Text, nullable=False),
    Column("goal_distance_m", BigInteger, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    *_stamps(),
    _ts("deleted_at"),
)

team_members = Table(
    "team_members",
    metadata,
    _id(),
    _tenant(),
    _fk("team_id", "teams.id"),
    _ref("customer_id"),
    Column("role", Text, nullable=False),
    _ts("joined_at", nullable=False),
    _ts("left_at"),
    *_stamps(),
    _in("role", ("admin", "member")),
)

activities = Table(
    "activities",
    metadata,
    _id(),
    _tenant(),
    _ref("customer_id"),
    _fk("team_id", "teams.id", nullable=True),
    _ref("pet_id", nullable=True),
    Column("activity_date", Date, nullable=False),
    Column("distance_m", Integer, nullable=False),
    Column("duration_s", Integer, nullable=False),
    Column("route", JSONB),
    *_stamps(),
    _ts("deleted_at"),
)

customer_stats = Table(
    "customer_stats",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),  # no FK: other context
    _tenant(),
    Column("total_distance_m", BigInteger, nullable=False, server_default=text("0")),
    Column("total_duration_s", BigInteger, nullable=False, server_default=text("0")),
    Column("activity_count", Integer, nullable=False, server_default=text("0")),
    Column("last_activity_date", Date),
    *_stamps(),
)

team_progress = Table(
    "team_progress",
    metadata,
    Column("team_id", UUID(as_uuid=True), ForeignKey(f"{SCHEMA}.teams.id"), primary_key=True),
    _tenant(),
    Column("total_distance_m", BigInteger, nullable=False, server_default=text("0")),
    Column("member_count", Integer, nullable=False, server_default=text("0")),
    *_stamps(),
)

achievements = Table(
    "achievements",
    metadata,
    _id(),
    _tenant(),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("criteria", JSONB, nullable=False),
    *_stamps(),
    UniqueConstraint("tenant_id", "code", name="achievements_tenant_code_key"),
)

customer_achievements = Table(
    "customer_achievements",
    metadata,
    _id(),
    _tenant(),
    _ref("customer_id"),
    _fk("achievement_id", "achievements.id"),
    _ts("awarded_at", nullable=False),
    *_stamps(),
)

# -- audit (all contexts) -------------------------------------------------------------
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("table_name", Text, nullable=False),
    Column("record_id", UUID(as_uuid=True), nullable=False),
    Column("action", Text, nullable=False),
    Column("changed_by", Text, nullable=False),
    _ts("changed_at", nullable=False, default=True),
    Column("old_values", JSONB),
    Column("new_values", JSONB),
    *_stamps(),
    _in("action", AUDIT_ACTIONS),
)

# Tables whose rows carry a soft-delete column; partial indexes cover their live rows.
SOFT_DELETE_TABLES = tuple(t.name for t in metadata.sorted_tables if "deleted_at" in t.c)

# Every table except audit_log itself is audited.
AUDITED_TABLES = tuple(t.name for t in metadata.sorted_tables if t.name != "audit_log")


def primary_key(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


def _indexes() -> None:
    """The indexes the app has: tenant-led lookups, live-row partials, updated_at for pulls."""
    for table in metadata.sorted_tables:
        Index(f"ix_{table.name}_updated_at", table.c.updated_at)
        if "tenant_id" in table.c and table.name not in ("audit_log",):
            Index(f"ix_{table.name}_tenant", table.c.tenant_id)
    live = {"postgresql_where": text("deleted_at is null")}
    Index("ix_customers_tenant_name_live", customers.c.tenant_id, customers.c.last_name, customers.c.first_name, **live)
    Index("ix_customers_tenant_email", customers.c.tenant_id, customers.c.email)
    Index("ix_pets_tenant_customer_live", pets.c.tenant_id, pets.c.customer_id, **live)
    Index("ix_resources_tenant_type_live", resources.c.tenant_id, resources.c.suite_type, **live)
    Index("ix_services_tenant_category_live", services.c.tenant_id, services.c.category, **live)
    Index("ix_reservations_tenant_start", reservations.c.tenant_id, reservations.c.start_date)
    Index(
        "ix_reservations_tenant_resource_dates_live",
        reservations.c.tenant_id,
        reservations.c.resource_id,
        reservations.c.start_date,
        reservations.c.end_date,
        **live,
    )
    Index("ix_reservations_tenant_customer", reservations.c.tenant_id, reservations.c.customer_id)
    Index("ix_reservations_tenant_pet", reservations.c.tenant_id, reservations.c.pet_id)
    Index("ix_invoices_tenant_customer_live", invoices.c.tenant_id, invoices.c.customer_id, **live)
    Index("ix_invoices_tenant_status_due", invoices.c.tenant_id, invoices.c.status, invoices.c.due_on)
    Index("ix_invoices_tenant_reservation", invoices.c.tenant_id, invoices.c.reservation_id)
    Index("ix_invoice_lines_tenant_invoice", invoice_lines.c.tenant_id, invoice_lines.c.invoice_id)
    Index("ix_payments_tenant_invoice", payments.c.tenant_id, payments.c.invoice_id)
    Index("ix_payments_tenant_paid_at", payments.c.tenant_id, payments.c.paid_at)
    Index("ix_refunds_tenant_payment", refunds.c.tenant_id, refunds.c.payment_id)
    Index("ix_teams_tenant_live", teams.c.tenant_id, teams.c.starts_on, **live)
    Index("ix_team_members_tenant_team", team_members.c.tenant_id, team_members.c.team_id)
    Index("ix_team_members_tenant_customer", team_members.c.tenant_id, team_members.c.customer_id)
    Index(
        "ix_activities_tenant_customer_date_live",
        activities.c.tenant_id,
        activities.c.customer_id,
        activities.c.activity_date,
        **live,
    )
    Index("ix_activities_tenant_team_live", activities.c.tenant_id, activities.c.team_id, **live)
    Index(
        "ix_customer_achievements_tenant_customer",
        customer_achievements.c.tenant_id,
        customer_achievements.c.customer_id,
    )
    Index("ix_audit_log_table_action_changed", audit_log.c.table_name, audit_log.c.action, audit_log.c.changed_at)


_indexes()
