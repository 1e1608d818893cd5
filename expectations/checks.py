"""The vocabulary every suite module uses: a check is one SQL query of unexpected rows.

Each check becomes one GX `UnexpectedRowsExpectation`; the rows it returns are the
violations (the query must return nothing for the check to pass). Checks that validate
the same relation for the same concern form a suite, which runs as one Dagster asset
check on the asset of that relation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
    never whole rows, so samples stay small. Literal braces must be doubled ({{ }}),
    because GX formats the query to substitute {batch}.
    """

    name: str
    query: str
    description: str


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
