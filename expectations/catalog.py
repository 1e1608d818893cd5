"""Every suite the warehouse runs, by the layer whose assets they validate.

`raw` suites describe the source (WARNING); `marts` and `reporting` suites guard what
analysts and finance read (ERROR, blocking). The Dagster checks and `warehouse dq run`
both take their suites from here, so a suite is declared once.
"""

from __future__ import annotations

from expectations import conservation, drift, isolation, orphans
from expectations.checks import LAYERS, Suite


def suites_for(layer: str, stats_tolerance: drift.StatsTolerance = drift.EXACT) -> list[Suite]:
    if layer == "raw":
        return [
            *orphans.raw_suites(),
            *isolation.raw_suites(),
            *drift.stats_suites(stats_tolerance),
            *drift.volume_suites(),
        ]
    if layer == "marts":
        return [*orphans.mart_suites(), *isolation.mart_suites(), *conservation.suites()]
    if layer == "reporting":
        return [*isolation.reporting_suites(), *drift.finance_suites()]
    raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")


def all_suites(stats_tolerance: drift.StatsTolerance = drift.EXACT) -> list[Suite]:
    return [suite for layer in LAYERS for suite in suites_for(layer, stats_tolerance)]
