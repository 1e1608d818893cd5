"""Extraction of the operational source into the warehouse's raw schema (DESIGN.md §3).

Plain functions, usable without Dagster: `load_table` for one table, `load_all` for
every table in the registry. The Dagster assets in pipelines/defs/ingestion call these.
"""

from pipelines.lib.extract.copy import CopyError
from pipelines.lib.extract.drift import SchemaDriftError
from pipelines.lib.extract.load import DEFAULT_LOOKBACK, LoadResult, load_all, load_table
from pipelines.lib.extract.meta import LockTimeout
from pipelines.lib.extract.registry import REGISTRY, TableSpec, table_spec

__all__ = [
    "DEFAULT_LOOKBACK",
    "REGISTRY",
    "CopyError",
    "LoadResult",
    "LockTimeout",
    "SchemaDriftError",
    "TableSpec",
    "load_all",
    "load_table",
    "table_spec",
]
