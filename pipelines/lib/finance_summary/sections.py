"""The four sections of a finance summary, built from query results by plain functions.

Each section is a DataFrame plus a description of its columns (`kind` decides how every
renderer formats a value, so the rule "money is integer cents, shown with 2 decimals"
lives in one place per output format). Monthly sections follow the request's month
spine: a month without activity is a row of zeros, never a missing row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
PAYMENT_METHODS = ("card", "cash", "ach", "gift_card")

# Column kinds: text, month (first day, shown YYYY-MM), date, cents (integer cents, shown as
# currency), count, percent (a ratio 0..1, shown as %; None when undefined).
KINDS = frozenset({"text", "month", "date", "cents", "count", "percent"})


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    kind: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    note: str
    columns: tuple[Column, ...]
    frame: pd.DataFrame

    def rows(self) -> list[tuple]:
        """Values in column order, with None for missing values (NaN never leaks into an output)."""
        frame = self.frame[[column.name for column in self.columns]].astype(object)
        return [tuple(None if pd.isna(value) else value for value in row) for row in frame.itertuples(index=False)]


@dataclass(frozen=True)
class FinanceSummary:
    """Everything one export holds; renderers only format it."""

    scope_title: str
    first_month: date
    last_month: date
    aging_as_of: date
    generated_at: datetime
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)


TENANT_COLUMNS = (
    Column("tenant_slug", "Tenant", "text"),
    Column("tenant_name", "Tenant name", "text"),
    Column("currency", "Currency", "text"),
)
TENANT_KEYS = ["tenant_id", "tenant_slug", "tenant_name", "currency"]
REVENUE_MEASURES = ("invoiced_cents", "collected_cents", "refunded_cents", "net_cents")


def _spine(tenants: pd.DataFrame, months: list[date]) -> pd.DataFrame:
    """Every (tenant, month) pair of the request, tenants in slug order."""
    spine = tenants[TENANT_KEYS].merge(pd.DataFrame({"month": months}), how="cross")
    return spine.sort_values(["tenant_slug", "month"], ignore_index=True)


def _months(values: pd.Series) -> pd.Series:
    """Months as `date` (first day), whatever type the database returned."""
    return pd.to_datetime(values).dt.date


def revenue_section(monthly: pd.DataFrame, tenants: pd.DataFrame, months: list[date]) -> Section:
    """Invoiced, collected, refunded and net per tenant and month (rpt_finance_monthly rows)."""
    monthly = monthly.assign(month=_months(monthly["month"])) if len(monthly) else monthly
    frame = _spine(tenants, months).merge(
        monthly[["tenant_id", "month", *REVENUE_MEASURES]], on=["tenant_id", "month"], how="left"
    )
    frame[list(REVENUE_MEASURES)] = frame[list(REVENUE_MEASURES)].fillna(0).astype("int64")
    return Section(
        key="revenue",
        title="Revenue by month",
        note="Invoiced on the issue date; collected and refunded on the tenant-local date of payment and refund; "
        "net = collected - refunded. All history, archived months included.",
        columns=(
            *TENANT_COLUMNS,
            Column("month", "Month", "month"),
            Column("invoiced_cents", "Invoiced", "cents"),
            Column("collected_cents", "Collected", "cents"),
            Column("refunded_cents", "Refunded", "cents"),
            Column("net_cents", "Net", "cents"),
        ),
        frame=frame,
    )


def aging_section(aging: pd.DataFrame, tenants: pd.DataFrame, as_of: date) -> Section:
    """Open receivables per tenant and bucket at `as_of`; all five buckets always present."""
    spine = tenants[TENANT_KEYS].merge(
        pd.DataFrame({"bucket": AGING_BUCKETS, "bucket_order": range(len(AGING_BUCKETS))}), how="cross"
    )
    frame = spine.merge(
        aging[["tenant_id", "bucket", "open_cents", "invoice_count"]], on=["tenant_id", "bucket"], how="left"
    )
    frame[["open_cents", "invoice_count"]] = frame[["open_cents", "invoice_count"]].fillna(0).astype("int64")
    frame = frame.sort_values(["tenant_slug", "bucket_order"], ignore_index=True).assign(as_of=as_of)
    return Section(
        key="ar_aging",
        title=f"AR aging as of {as_of:%Y-%m-%d}",
        note=f"Receivables open on {as_of:%Y-%m-%d} (invoices still open, or paid only after that date): "
        "invoice total minus payments plus refunds made by that date (tenant-local), by days past the due date "
        "(the issue date when there is none).",
        columns=(
            *TENANT_COLUMNS,
            Column("as_of", "As of", "date"),
            Column("bucket", "Days past due", "text"),
            Column("open_cents", "Open", "cents"),
            Column("invoice_count", "Invoices", "count"),
        ),
        frame=frame,
    )


def payment_methods_section(payments: pd.DataFrame, tenants: pd.DataFrame) -> Section:
    """Succeeded payments per tenant and method over the period, with each method's share of collected."""
    frame = tenants[TENANT_KEYS].merge(
        payments[["tenant_id", "method", "payment_count", "collected_cents"]], on="tenant_id", how="inner"
    )
    frame[["payment_count", "collected_cents"]] = frame[["payment_count", "collected_cents"]].astype("int64")
    totals = frame.groupby("tenant_id")["collected_cents"].transform("sum")
    frame["share"] = (frame["collected_cents"] / totals.where(totals != 0)).astype(object)
    order = {method: index for index, method in enumerate(PAYMENT_METHODS)}
    frame["method_order"] = frame["method"].map(order).fillna(len(order))
    frame = frame.sort_values(["tenant_slug", "method_order", "method"], ignore_index=True)
    return Section(
        key="payment_methods",
        title="Payment-method mix",
        note="Succeeded payments in the period by method; share = the method's part of the collected amount.",
        columns=(
            *TENANT_COLUMNS,
            Column("method", "Method", "text"),
            Column("payment_count", "Payments", "count"),
            Column("collected_cents", "Collected", "cents"),
            Column("share", "Share", "percent"),
        ),
        frame=frame,
    )


def occupancy_section(occupancy: pd.DataFrame, tenants: pd.DataFrame, months: list[date]) -> Section:
    """Occupied nights / capacity nights per tenant and month; the rate is empty where there is no capacity."""
    occupancy = occupancy.assign(month=_months(occupancy["month"])) if len(occupancy) else occupancy
    frame = _spine(tenants, months).merge(
        occupancy[["tenant_id", "month", "occupied_nights", "capacity_nights"]], on=["tenant_id", "month"], how="left"
    )
    frame[["occupied_nights", "capacity_nights"]] = (
        frame[["occupied_nights", "capacity_nights"]].fillna(0).astype("int64")
    )
    capacity = frame["capacity_nights"].where(frame["capacity_nights"] != 0)
    frame["occupancy_rate"] = (frame["occupied_nights"] / capacity).astype(object)
    return Section(
        key="occupancy",
        title="Occupancy by month",
        note="Occupied nights / capacity nights over all suite types (stays of unmatched suite type count as "
        "occupied). The daily occupancy table covers one year back to 90 days ahead of its build date; "
        "months outside it show zero nights and no rate.",
        columns=(
            *TENANT_COLUMNS[:2],  # nights, not money: no currency
            Column("month", "Month", "month"),
            Column("occupied_nights", "Occupied nights", "count"),
            Column("capacity_nights", "Capacity nights", "count"),
            Column("occupancy_rate", "Occupancy", "percent"),
        ),
        frame=frame,
    )
