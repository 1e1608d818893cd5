"""Tenant isolation: a child and the parent it references belong to different tenants.

No foreign key in the source checks the tenant, so raw can hold such rows (WARNING);
marts and reporting must hold none (ERROR). A missing parent is an orphan, not an
isolation breach, so each bad row is reported by exactly one of the two suites.
"""

from __future__ import annotations

from collections import defaultdict

from expectations.checks import Check, Severity, Suite, group_into_suites
from expectations.relations import MARTS, TENANT_REFERENCES, Reference, in_marts, key_column

CONCERN = "tenant_isolation"


def raw_isolation_check(reference: Reference) -> Check:
    child_key, parent_key = key_column(reference.child), key_column(reference.parent)
    # Deleted rows are included on purpose: a reference into another tenant is a leak
    # whether or not the row is still live.
    query = f"""
select
    child.{child_key} as record_key,
    child.tenant_id,
    child.{reference.column},
    parent.tenant_id as parent_tenant_id
from {{batch}} as child
inner join raw.{reference.parent} as parent
    on parent.{parent_key} = child.{reference.column}
where parent.tenant_id <> child.tenant_id
order by child.{child_key}
"""
    return Check(
        name=f"cross_tenant_{reference.label}",
        query=query.strip(),
        description=f"raw.{reference.child} rows whose {reference.column} points into another tenant's "
        f"raw.{reference.parent}",
    )


def raw_suites() -> list[Suite]:
    checks: dict[str, list[Check]] = defaultdict(list)
    for reference in TENANT_REFERENCES:
        checks[f"raw.{reference.child}"].append(raw_isolation_check(reference))
    return group_into_suites(CONCERN, Severity.WARNING, checks)


def mart_isolation_check(reference: Reference) -> Check:
    child, parent = MARTS[reference.child], MARTS[reference.parent]
    query = f"""
select
    child.{child.key} as record_key,
    child.tenant_id,
    child.{reference.column},
    parent.tenant_id as parent_tenant_id
from {{batch}} as child
inner join {parent.relation} as parent
    on parent.{parent.key} = child.{reference.column}
where parent.tenant_id <> child.tenant_id
order by child.{child.key}
"""
    return Check(
        name=f"cross_tenant_{reference.label}",
        query=query.strip(),
        description=f"{child.relation} rows whose {reference.column} points into another tenant's {parent.relation}",
    )


def mart_suites() -> list[Suite]:
    checks: dict[str, list[Check]] = defaultdict(list)
    for reference in in_marts(TENANT_REFERENCES):
        checks[MARTS[reference.child].relation].append(mart_isolation_check(reference))
    return group_into_suites(CONCERN, Severity.ERROR, checks)


# Every reference a reporting relation carries: (relation, column, mart it must resolve
# in, the mart's key). A reporting row may only point at rows of its own tenant.
REPORTING_REFERENCES = (
    ("reporting.rpt_reservation_calendar", "reservation_id", "reservations"),
    ("reporting.rpt_reservation_calendar", "resource_id", "resources"),
    ("reporting.rpt_reservation_calendar", "customer_id", "customers"),
    ("reporting.rpt_reservation_calendar", "pet_id", "pets"),
    ("reporting.rpt_customers_with_pets", "customer_id", "customers"),
    ("reporting.rpt_customers_with_pets", "pet_ids", "pets"),
    ("reporting.rpt_current_occupancy", "resource_id", "resources"),
    ("reporting.rpt_current_occupancy", "reservation_id", "reservations"),
    ("reporting.rpt_unmatched_reservations", "reservation_id", "reservations"),
    ("reporting.rpt_leaderboard_customers", "customer_id", "customers"),
    ("reporting.rpt_leaderboard_teams", "team_id", "teams"),
)


def reporting_resolution_check(relation: str, column: str, parent_table: str) -> Check:
    """Rows whose reference is set but does not resolve to a row of the same tenant."""
    parent = MARTS[parent_table]
    is_array = column.endswith("_ids")
    # An array of ids (pet_ids) is checked element by element.
    reference = "referenced.id" if is_array else f"child.{column}"
    unnest = f"\ncross join lateral unnest(child.{column}) as referenced (id)" if is_array else ""
    name_stem = relation.split(".", 1)[1].removeprefix("rpt_")
    query = f"""
select
    child.tenant_id,
    {reference} as {column.removesuffix("s") if is_array else column}
from {{batch}} as child{unnest}
left join {parent.relation} as parent
    on parent.tenant_id = child.tenant_id
    and parent.{parent.key} = {reference}
where {reference} is not null
    and parent.{parent.key} is null
"""
    return Check(
        name=f"unresolved_{name_stem}_{column.removesuffix('_ids').removesuffix('_id')}",
        query=query.strip(),
        description=f"{relation} rows whose {column} does not resolve to a {parent.relation} row of the same tenant",
    )


def reporting_suites() -> list[Suite]:
    checks: dict[str, list[Check]] = defaultdict(list)
    for relation, column, parent_table in REPORTING_REFERENCES:
        checks[relation].append(reporting_resolution_check(relation, column, parent_table))
    return group_into_suites(CONCERN, Severity.ERROR, checks)
