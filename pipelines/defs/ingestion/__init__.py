"""Extraction concern: the raw/<table> assets (DESIGN.md §3)."""

import dagster as dg

from pipelines.defs.ingestion.assets import RAW_ASSETS

defs = dg.Definitions(assets=RAW_ASSETS)
