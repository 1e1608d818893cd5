"""Tenant isolation: a child and the parent it references belong to different tenants.

No foreign key in the source checks the tenant, so raw can hold such rows (WARNING);
marts and reporting must hold none (ERROR). A missing parent is an orphan, not an
isolation breach, so each bad row is reported by exactly one of the two suites.
"""

from __future__ import annotations

from collections import defaultdict

from expectations.checks import Check, Severity, Suite, group_into_suites
from expectations.relations import TENANT_REFERENCES, Reference, key_column

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
        description=f"raw.{reference.child} rows whose {reference.column} points into another tenant's raw.{reference.parent}",
    )


def raw_suites() -> list[Suite]:
    checks: dict[str, list[Check]] = defaultdict(list)
    for reference in TENANT_REFERENCES:
        checks[f"raw.{reference.child}"].append(raw_isolation_check(reference))
    return group_into_suites(CONCERN, Severity.WARNING, checks)
