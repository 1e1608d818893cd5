"""Finance summary export: monthly revenue, AR aging at period end, payment-method mix and
occupancy by month, for one tenant or all, as HTML, XLSX or CSV.

    request = parse_request("paws-inn", False, "2025-01", "2026-10")   # validation only
    summary = build_summary(warehouse_url, request)                    # read-only SQL
    write_summary(summary, "xlsx", path)                               # atomic write

Guarantees: input is validated before any SQL runs (`validation.InvalidInput` names the
bad value, including an unknown tenant); every value is bound as a parameter; all figures
come from one consistent snapshot; an export replaces the previous file only once it is
completely written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import sqlalchemy as sa

from pipelines.lib import validation
from pipelines.lib.databases import mask_url
from pipelines.lib.finance_summary import queries
from pipelines.lib.finance_summary.output import (
    FORMATS,
    default_path,
    write_directory_atomically,
    write_file_atomically,
)
from pipelines.lib.finance_summary.render_csv import write_csv
from pipelines.lib.finance_summary.render_html import write_html
from pipelines.lib.finance_summary.render_xlsx import write_xlsx
from pipelines.lib.finance_summary.request import SummaryRequest, parse_request
from pipelines.lib.finance_summary.sections import (
    FinanceSummary,
    aging_section,
    occupancy_section,
    payment_methods_section,
    revenue_section,
)


class WarehouseNotReady(RuntimeError):
    """The warehouse cannot be read, or lacks the reporting relations (nothing built yet)."""


__all__ = [
    "FORMATS",
    "FinanceSummary",
    "SummaryRequest",
    "WarehouseNotReady",
    "build_summary",
    "default_path",
    "parse_request",
    "write_summary",
]


def aging_date(request: SummaryRequest, today: date) -> date:
    """AR aging is taken at the period end, or today when the period has not ended yet."""
    return min(request.period_end, today)


def build_summary(warehouse_url: str, request: SummaryRequest, today: date | None = None) -> FinanceSummary:
    """Read every section for `request` from the warehouse; `today` (default: the UTC date) caps the aging date."""
    as_of = aging_date(request, today or datetime.now(UTC).date())
    try:
        return _build(warehouse_url, request, as_of)
    except sa.exc.ProgrammingError as error:
        if isinstance(error.orig, psycopg.errors.UndefinedTable):
            raise WarehouseNotReady(
                f"the warehouse is not built yet ({error.orig.diag.message_primary}): "
                "run the extraction and dbt build first"
            ) from None
        raise
    except sa.exc.OperationalError as error:
        raise WarehouseNotReady(f"cannot read the warehouse at {mask_url(warehouse_url)}: {error.orig}") from None


def _build(warehouse_url: str, request: SummaryRequest, as_of: date) -> FinanceSummary:
    with queries.snapshot(warehouse_url) as conn:
        tenants = queries.read(conn, queries.TENANTS, tenant_slug=request.tenant_slug)
        if tenants.empty:
            if request.tenant_slug:
                raise validation.InvalidInput(f"no tenant with slug {request.tenant_slug!r} in the warehouse")
            raise validation.InvalidInput("the warehouse holds no tenants yet (run the extraction and dbt build first)")
        tenant_ids = tenants["tenant_id"].tolist()
        period = queries.period_params(tenant_ids, request.first_month, request.period_end)
        monthly = queries.read(conn, queries.MONTHLY, **period)
        payments = queries.read(conn, queries.PAYMENT_METHODS, **period)
        aging = queries.read(conn, queries.AR_AGING, tenant_ids=tenant_ids, as_of=as_of)
        occupancy = queries.read(conn, queries.OCCUPANCY, **period)
    months = request.months
    scope_title = (
        f"{tenants.loc[0, 'tenant_name']} ({request.tenant_slug})"
        if request.tenant_slug
        else f"all tenants ({len(tenants)})"
    )
    return FinanceSummary(
        scope_title=scope_title,
        first_month=request.first_month,
        last_month=request.last_month,
        aging_as_of=as_of,
        generated_at=datetime.now(UTC),
        sections=(
            revenue_section(monthly, tenants, months),
            aging_section(aging, tenants, as_of),
            payment_methods_section(payments, tenants),
            occupancy_section(occupancy, tenants, months),
        ),
    )


def write_summary(summary: FinanceSummary, fmt: str, path: Path) -> Path:
    """Write `summary` as `fmt` to `path` (csv: a directory of one file per section); returns `path`."""
    if fmt == "csv":
        return write_directory_atomically(path, lambda tmp: write_csv(summary, tmp))
    writers = {"html": write_html, "xlsx": write_xlsx}
    if fmt not in writers:
        raise validation.InvalidInput(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    return write_file_atomically(path, lambda tmp: writers[fmt](summary, tmp))
