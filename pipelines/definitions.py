"""The only Dagster entry point: merges what each concern under defs/ declares.

Each concern's package exposes `defs` (a `dagster.Definitions`); nothing is declared here.
"""

from __future__ import annotations

import importlib

import dagster as dg

CONCERNS = (
    "pipelines.defs.resources",
    "pipelines.defs.ingestion",
    "pipelines.defs.quality",
    "pipelines.defs.transform",
    "pipelines.defs.orchestration",
)

defs = dg.Definitions.merge(*(importlib.import_module(name).defs for name in CONCERNS))
