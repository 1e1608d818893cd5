"""The vocabulary every suite module uses: a check is one SQL query of unexpected rows.

Each check becomes one GX expectation (expectations/unexpected_rows.py); the rows its
query returns are the violations, and it passes when there are none. Checks of the
same relation and concern form a suite, which runs as one Dagster asset check on the
asset of that relation. Checks that only differ by the parent they join (orphans and
tenant isolation, one per reference) share one scan of the relation: see `scan_checks`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from expectations.relations import Layer, Reference

# Raw suites describe the source; marts and reporting suites guard what people read.
LAYERS = ("raw", "marts", "reporting")


class Severity(StrEnum):
    """WARNING reports source quality (raw); ERROR must be zero and blocks downstream assets."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Check:
    """One expectation: `query` selects the unexpected rows; `{batch}` is the validated relation.

    Queries return the violating rows' keys and the values that explain the violation,
    never whole rows, so samples stay small. They do not ORDER BY: ordering every row
    of a big table makes the planner walk its primary-key index instead of scanning and
    hash-joining (8 s against 1 s for the reservations at scale 1). Literal braces must
    be doubled ({{ }}), because GX formats the query to substitute {batch}.
    """

    name: str
    query: str
    description: str
    # Set when the check is one flag of a shared scan (see `scan_checks`): the query GX
    # runs, shared by every check of the scan, so the relation is read once for all.
    shared_query: str | None = None


@dataclass(frozen=True)
class Flag:
    """One check of a shared scan: `condition` is SQL over `child` and the aliases `join` adds."""

    name: str
    condition: str
    description: str
    join: str = ""
    columns: tuple[str, ...] = ()


SAMPLE_PER_FLAG = 20


def scan_checks(key_columns: Sequence[str], flags: Sequence[Flag]) -> tuple[Check, ...]:
    """Checks that share one scan of {batch} (alias `child`), joined to what every flag needs.

    Each check's own `query` selects exactly its unexpected rows (the key columns and its
    own columns, with only its own join). The `shared_query` GX runs reads the relation
    once and returns, for every flag, its exact total (`<flag>__total`, on every row) and
    at most SAMPLE_PER_FLAG of its rows (marked by the boolean column `<flag>`).
    """
    assert len(flags) * SAMPLE_PER_FLAG <= 200, "GX fetches at most 200 rows of a query"
    columns = [*key_columns, *(column for flag in flags for column in flag.columns)]
    joins = [flag.join for flag in flags if flag.join]
    marks = [f"coalesce({flag.condition}, false) as {flag.name}" for flag in flags]
    windows = [
        window
        for flag in flags
        for window in (
            f"count(*) filter (where {flag.name}) over () as {flag.name}__total",
            f"row_number() over (partition by {flag.name}) as {flag.name}__rank",
        )
    ]
    shared = f"""
with

flagged as (
    select
        {_indented(",", [*columns, *marks], 8)}
    from {{batch}} as child
    {_indented("", joins, 4)}
    where {_either([f"({flag.condition})" for flag in flags], 8)}
),

counted as (
    select
        flagged.*,
        {_indented(",", windows, 8)}
    from flagged
)

select * from counted
where {_either([f"({f.name} and {f.name}__rank <= {SAMPLE_PER_FLAG})" for f in flags], 4)}
"""
    return tuple(
        Check(
            name=flag.name,
            query=f"select\n    {_indented(',', [*key_columns, *flag.columns], 4)}\nfrom {{batch}} as child\n"
            f"{flag.join}\nwhere {flag.condition}",
            description=flag.description,
            shared_query=shared.strip(),
        )
        for flag in flags
    )


def _either(conditions: Sequence[str], spaces: int) -> str:
    """`conditions` joined by `or`, one per line, `or` leading the continuation lines."""
    return ("\n" + " " * spaces + "or ").join(conditions)


def _indented(separator: str, lines: Sequence[str], spaces: int) -> str:
    """`lines` joined one per line, each continuation line indented by `spaces`."""
    pad = "\n" + " " * spaces
    return f"{separator}{pad}".join(line.replace("\n", pad) for line in lines)


@dataclass(frozen=True)
class Suite:
    """The checks of one concern on one relation ("schema.table"), all of one severity."""

    concern: str
    relation: str
    severity: Severity
    checks: tuple[Check, ...]

    @property
    def name(self) -> str:
        return f"{self.concern}.{self.relation}"

    @property
    def schema(self) -> str:
        return self.relation.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.relation.split(".", 1)[1]


def group_into_suites(concern: str, severity: Severity, checks_by_relation: dict[str, list[Check]]) -> list[Suite]:
    """One suite per relation that has checks, in a stable order."""
    return [
        Suite(concern, relation, severity, tuple(checks))
        for relation, checks in sorted(checks_by_relation.items())
        if checks
    ]


def reference_suites(
    concern: str,
    layer: Layer,
    severity: Severity,
    references: Iterable[Reference],
    build: Callable[[Layer, str, list[Reference]], Iterable[Check]],
) -> list[Suite]:
    """Suites of checks over references between two relations of `layer`, one scan per child.

    References whose child or parent the layer lacks are skipped; `build` turns one child's
    references into its checks (orphans and tenant isolation differ only there).
    """
    by_child: dict[str, list[Reference]] = defaultdict(list)
    for reference in references:
        if layer.has(reference.child) and layer.has(reference.parent):
            by_child[reference.child].append(reference)
    checks = {layer.relation(child): list(build(layer, child, refs)) for child, refs in by_child.items()}
    return group_into_suites(concern, severity, checks)
