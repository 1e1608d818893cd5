"""The one table registry extraction is built from: every source table, its key and watermark.

Dagster assets, the CLI and `load_all` all iterate this registry, so adding a table to
the source schema adds its extraction everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pipelines.source.schema import metadata, primary_key

SOURCE_SCHEMA = "app"
RAW_SCHEMA = "raw"
META_SCHEMA = "meta"

# Columns raw adds to every source row, in this order, after the source columns.
LOAD_COLUMNS = (
    ("_extracted_at", "timestamp with time zone not null"),
    ("_batch_id", "uuid not null"),
    ("_deleted_in_source_at", "timestamp with time zone"),
)
LOAD_COLUMN_NAMES = tuple(name for name, _ in LOAD_COLUMNS)


@dataclass(frozen=True)
class TableSpec:
    """How one source table is extracted.

    `lookback` None means "the caller's default" (15 minutes unless configured): a
    table whose writers hold transactions open longer needs a longer one.
    """

    name: str
    primary_key: tuple[str, ...]
    watermark_column: str = "updated_at"
    lookback: timedelta | None = None
    # the columns naming a row of another source table (`customer_id` -> customers; tenant_id
    # has an index of its own)
    references: tuple[str, ...] = ()

    @property
    def raw_name(self) -> str:
        return f"{RAW_SCHEMA}.{self.name}"


def _build() -> dict[str, TableSpec]:
    specs = {}
    names = {table.name for table in metadata.sorted_tables}
    for table in metadata.sorted_tables:
        key = primary_key(table)
        references = tuple(
            column.name
            for column in table.columns
            if column.name.endswith("_id")
            and f"{column.name[:-3]}s" in names
            and column.name != "tenant_id"
            and column.name not in key
        )
        specs[table.name] = TableSpec(name=table.name, primary_key=key, references=references)
    return specs


REGISTRY: dict[str, TableSpec] = _build()


def table_spec(name: str) -> TableSpec:
    """The registry entry for `name`; a clear error for an unknown table."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source table {name!r}; known tables: {known}") from None
