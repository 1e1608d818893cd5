"""Data-quality concern: Great Expectations suites as Dagster asset checks (DESIGN.md §5)."""

import dagster as dg

from pipelines.defs.quality.checks import LAYER_CHECKS

defs = dg.Definitions(asset_checks=LAYER_CHECKS)
