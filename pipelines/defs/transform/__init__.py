"""Transform concern: the dbt models as Dagster assets (DESIGN.md §4)."""

import dagster as dg

from pipelines.defs.transform.assets import DBT_ASSETS, DBT_RESOURCES
from pipelines.defs.transform.months import rebuild_reservation_months

defs = dg.Definitions(assets=DBT_ASSETS, jobs=[rebuild_reservation_months], resources=DBT_RESOURCES)
