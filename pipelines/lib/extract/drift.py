"""Schema drift: compare the source table's columns with raw's, before anything is written.

A new source column can be added to raw without losing anything; a dropped, renamed or
retyped one cannot be reconciled automatically (raw's history has the old shape, and
the dbt models read it), so it stops the load with a message naming table and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Column = tuple[str, str]  # (name, type as PostgreSQL's format_type prints it)


class SchemaDriftError(Exception):
    """The source table changed in a way raw cannot follow by itself."""


@dataclass(frozen=True)
class ColumnPlan:
    """What the load must do to raw's columns: add these (in source order), nothing else."""

    added: tuple[Column, ...] = field(default_factory=tuple)


def plan_columns(raw_name: str, source: list[Column], raw: list[Column]) -> ColumnPlan:
    """Columns to add to raw; raises SchemaDriftError for any column raw cannot follow.

    `raw` excludes the load columns (_extracted_at, ...). Every problem is listed in one
    message, so one run tells the operator everything that changed.
    """
    source_types = dict(source)
    raw_types = dict(raw)
    problems = []
    for name, raw_type in raw:
        if name not in source_types:
            problems.append(f"source column {name} was dropped or renamed")
        elif source_types[name] != raw_type:
            problems.append(f"source column {name} changed type {raw_type} -> {source_types[name]}")
    added = tuple((name, kind) for name, kind in source if name not in raw_types)
    if problems:
        if added:
            problems.append("new source columns: " + ", ".join(name for name, _ in added))
        raise SchemaDriftError(
            f"{raw_name}: " + "; ".join(problems) + " (nothing was loaded; fix the source, or rebuild raw "
            "with the new shape by running the load with full_refresh)"
        )
    return ColumnPlan(added=added)
