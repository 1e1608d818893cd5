"""Tenant isolation: a child and the parent it references belong to different tenants.

No foreign key in the source checks the tenant, so raw can hold such rows (WARNING);
marts and reporting must hold none (ERROR). A missing parent is an orphan, not an
isolation breach, so each bad row is reported by exactly one of the two suites.
"""

from __future__ import annotations

from collections import defaultdict

from expectations.checks import Check, Flag, Severity, Suite, group_into_suites, reference_suites, scan_checks
from expectations.relations import MART, MARTS, RAW, TENANT_REFERENCES, Layer, Reference

CONCERN = "tenant_isolation"


def isolation_checks(layer: Layer, child: str, references: list[Reference]) -> tuple[Check, ...]:
    """One expectation per reference of `child`, all answered by one scan of it.

    Deleted rows count too: a reference into another tenant is a leak whether or not
    the row is still live.
    """
    flags = []
    for number, reference in enumerate(references, start=1):
        parent, alias = reference.parent, f"parent_{number}"
        parent_tenant = f"{reference.column.removesuffix('_id')}_tenant_id"
        flags.append(
            Flag(
                name=f"cross_tenant_{reference.label}",
                condition=f"{alias}.tenant_id <> child.tenant_id",
                description=f"{layer.relation(child)} rows whose {reference.column} points into another tenant's "
                f"{layer.relation(parent)}",
                join=f"left join {layer.relation(parent)} as {alias}\n"
                f"    on {alias}.{layer.key(parent)} = child.{reference.column}",
                columns=(f"child.{reference.column}", f"{alias}.tenant_id as {parent_tenant}"),
            )
        )
    return scan_checks([f"child.{layer.key(child)} as record_key", "child.tenant_id"], flags)


def _suites(layer: Layer, severity: Severity) -> list[Suite]:
    return reference_suites(CONCERN, layer, severity, TENANT_REFERENCES, isolation_checks)


def raw_suites() -> list[Suite]:
    return _suites(RAW, Severity.WARNING)


def mart_suites() -> list[Suite]:
    return _suites(MART, Severity.ERROR)


# Every reference a reporting relation carries, and the source table whose mart it must
# resolve in. A reporting row may only point at rows of its own tenant. The calendar is a view
# of the history's own rows (rows_of), so its reservation_id is not looked up in the history
# (that self-join of every row took 2.4 of the check's 3.2 s at scale 1), only reported
# (ROW_KEYS: the columns naming a failed row besides its references).
ROW_KEYS = {"reporting.rpt_reservation_calendar": ("reservation_id",)}
REPORTING_REFERENCES = {
    "reporting.rpt_reservation_calendar": (
        ("resource_id", "resources"),
        ("customer_id", "customers"),
        ("pet_id", "pets"),
    ),
    "reporting.rpt_customers_with_pets": (("customer_id", "customers"), ("pet_ids", "pets")),
    "reporting.rpt_current_occupancy": (("resource_id", "resources"), ("reservation_id", "reservations")),
    "reporting.rpt_unmatched_reservations": (("reservation_id", "reservations"),),
    "reporting.rpt_leaderboard_customers": (("customer_id", "customers"),),
    "reporting.rpt_leaderboard_teams": (("team_id", "teams"),),
}


# Reporting relations that keep soft-deleted rows, flagged by is_deleted, whatever became of
# their parents (as the marts they come from, whose relationships tests say `where: not
# is_deleted`): a deleted row's reference may resolve to nothing. One into another tenant is
# still found, by the marts' isolation suite on the history it comes from (deleted rows count).
KEEPS_DELETED_ROWS = frozenset({"reporting.rpt_reservation_calendar"})


def reporting_resolution_check(relation: str, references: tuple[tuple[str, str], ...]) -> Check:
    """Rows with a reference that is set but resolves to no mart row of the same tenant
    (live rows only, where the relation keeps deleted ones: KEEPS_DELETED_ROWS).

    All the relation's references are checked in one scan (a left join per parent);
    `unresolved` names the columns that failed.
    """
    live = " and not child.is_deleted" if relation in KEEPS_DELETED_ROWS else ""
    joins, failures = [], []
    for number, (column, parent_table) in enumerate(references, start=1):
        parent, alias = MARTS[parent_table], f"parent_{number}"
        joins.append(
            f"left join {parent.relation} as {alias}\n"
            f"    on {alias}.tenant_id = child.tenant_id\n"
            f"    and {alias}.{parent.key} = child.{column}"
        )
        failures.append((column, f"child.{column} is not null and {alias}.{parent.key} is null{live}"))
    newline, indent = "\n", ",\n    "
    columns = [*ROW_KEYS.get(relation, ()), *(column for column, _ in references)]
    cases = f",{newline}        ".join(f"case when {condition} then '{column}' end" for column, condition in failures)
    query = f"""
select
    child.tenant_id,
    {indent.join(f"child.{column}" for column in columns)},
    array_remove(array[
        {cases}
    ], null) as unresolved
from {{batch}} as child
{newline.join(joins)}
where {f"{newline}    or ".join(f"({condition})" for _, condition in failures)}
"""
    return Check(
        name=f"unresolved_{relation.split('.', 1)[1].removeprefix('rpt_')}",
        query=query.strip(),
        description=f"{relation} rows whose {', '.join(column for column, _ in references)} do not all resolve "
        "to mart rows of the same tenant",
    )


def reporting_array_check(relation: str, column: str, parent_table: str) -> Check:
    """Elements of an array of ids (pet_ids) that resolve to no mart row of the row's tenant."""
    parent = MARTS[parent_table]
    element = column.removesuffix("s")
    query = f"""
select
    child.tenant_id,
    referenced.id as {element}
from {{batch}} as child
cross join lateral unnest(child.{column}) as referenced (id)
left join {parent.relation} as parent
    on parent.tenant_id = child.tenant_id
    and parent.{parent.key} = referenced.id
where parent.{parent.key} is null
"""
    return Check(
        name=f"unresolved_{relation.split('.', 1)[1].removeprefix('rpt_')}_{column.removesuffix('_ids')}",
        query=query.strip(),
        description=f"{relation} {column} elements that resolve to no {parent.relation} row of the same tenant",
    )


def reporting_suites() -> list[Suite]:
    checks: dict[str, list[Check]] = defaultdict(list)
    for relation, references in REPORTING_REFERENCES.items():
        scalars = tuple((column, parent) for column, parent in references if not column.endswith("_ids"))
        if scalars:
            checks[relation].append(reporting_resolution_check(relation, scalars))
        for column, parent in references:
            if column.endswith("_ids"):
                checks[relation].append(reporting_array_check(relation, column, parent))
    return group_into_suites(CONCERN, Severity.ERROR, checks)
