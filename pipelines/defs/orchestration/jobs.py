"""The jobs the warehouse lives by, as selections over the one asset graph.

Selections are by group and key, so a model added to a folder joins the right jobs
without editing this file.
"""

import dagster as dg

RAW = dg.AssetSelection.groups("raw")

# What the occupancy views need fresh every hour: bookings, rooms, and who is in them.
OCCUPANCY_SOURCES = ("tenants", "reservations", "resources", "customers", "pets")
OCCUPANCY_REPORTS = dg.AssetSelection.assets(
    ["reporting", "rpt_kennel_occupancy_daily"],
    ["reporting", "rpt_current_occupancy"],
    ["reporting", "rpt_reservation_calendar"],
)

ARCHIVE = dg.AssetSelection.assets(["archive", "financial_transactions"])

warehouse_nightly = dg.define_asset_job(
    "warehouse_nightly",
    selection=dg.AssetSelection.all(),
    description="Extract every source table, dbt build (archive move and concurrent materialized-view "
    "refreshes included), every data-quality check, Data Docs.",
    tags={"kennelworks/schedule": "nightly"},
)

occupancy_hourly = dg.define_asset_job(
    "occupancy_hourly",
    selection=dg.AssetSelection.assets(*(["raw", name] for name in OCCUPANCY_SOURCES))
    | (OCCUPANCY_REPORTS.upstream() - RAW),
    description="Bookings, resources, customers and pets extracted, then occupancy and calendar rebuilt.",
    tags={"kennelworks/schedule": "hourly"},
)

archive_monthly = dg.define_asset_job(
    "archive_monthly",
    selection=(ARCHIVE.upstream() | ARCHIVE.downstream()) - RAW,
    description="Move ledger entries completed more than 12 months ago from live to archive, "
    "then rebuild what reads them (all-history finance).",
    tags={"kennelworks/schedule": "monthly"},
)

JOBS = [warehouse_nightly, occupancy_hourly, archive_monthly]
