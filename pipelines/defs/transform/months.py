"""Monthly partitions of marts.fct_reservation_history: rebuild chosen months on demand.

The history is one unpartitioned asset whose daily build rebuilds only the months touched
since the last build; this partitioned job is for repairs and backfills: each Dagster month
runs `dbt build --select fct_reservation_history --vars '{"reservation_months": [...]}'`
(months validated as ISO dates before dbt sees them) and records a materialization.
"""

import dagster as dg

from pipelines.defs.resources import PostgresResource
from pipelines.lib.dbt import dbt_build, months_in_window

HISTORY_KEY = dg.AssetKey(["marts", "fct_reservation_history"])

# Reservations run four years back and about a year ahead.
RESERVATION_MONTHS = dg.MonthlyPartitionsDefinition(start_date="2022-01-01", end_offset=12)


@dg.op
def rebuild_history_months(context: dg.OpExecutionContext, warehouse_db: PostgresResource) -> None:
    # A range of months (a backfill launched as one run) arrives as one time window.
    window = context.partition_time_window
    months = months_in_window(window.start, window.end)
    # "+": on a first-ever build the staging and integrity models under the history do not
    # exist yet; they are views, so building them again costs next to nothing.
    result = dbt_build(warehouse_db.url(), select="+fct_reservation_history", vars={"reservation_months": months})
    context.log_event(
        dg.AssetMaterialization(
            asset_key=HISTORY_KEY,
            description=f"rebuilt {', '.join(months)}",
            metadata={"months": ", ".join(months), "seconds": round(result.seconds, 2)},
        )
    )


@dg.job(partitions_def=RESERVATION_MONTHS, tags={"kennelworks/kind": "backfill"})
def rebuild_reservation_months():
    rebuild_history_months()
