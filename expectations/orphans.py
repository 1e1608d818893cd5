"""Orphaned records: a live child whose parent is missing or soft-deleted, per reference.

On raw they describe the source's quality (WARNING: the app lets them happen across
bounded contexts); on marts they must be zero (ERROR), because the integrity models
quarantine them before they reach a mart. Parents are looked up by key alone (ids are
globally unique): a parent in another tenant is an isolation breach, not an orphan.
"""

from __future__ import annotations

from expectations.checks import Check, Flag, Severity, Suite, reference_suites, scan_checks
from expectations.relations import MART, ORPHAN_REFERENCES, RAW, Layer, Reference

CONCERN = "orphans"


def orphan_checks(layer: Layer, child: str, references: list[Reference]) -> tuple[Check, ...]:
    """One expectation per reference of `child`, all answered by one scan of it."""
    flags = []
    for number, reference in enumerate(references, start=1):
        parent, alias = reference.parent, f"parent_{number}"
        parent_key = layer.key(parent)
        is_set = f" and child.{reference.column} is not null" if reference.nullable else ""
        flags.append(
            Flag(
                name=f"orphan_{reference.label}",
                condition=f"{layer.is_live(child, 'child')}{is_set} "
                f"and ({alias}.{parent_key} is null or not ({layer.is_live(parent, alias)}))",
                description=f"live {layer.relation(child)} rows whose {reference.column} is missing or deleted "
                f"in {layer.relation(parent)}",
                join=f"left join {layer.relation(parent)} as {alias}\n"
                f"    on {alias}.{parent_key} = child.{reference.column}",
                columns=(f"child.{reference.column}",),
            )
        )
    return scan_checks([f"child.{layer.key(child)} as record_key", "child.tenant_id"], flags)


def _suites(layer: Layer, severity: Severity) -> list[Suite]:
    return reference_suites(CONCERN, layer, severity, ORPHAN_REFERENCES, orphan_checks)


def raw_suites() -> list[Suite]:
    return _suites(RAW, Severity.WARNING)


def mart_suites() -> list[Suite]:
    return _suites(MART, Severity.ERROR)
