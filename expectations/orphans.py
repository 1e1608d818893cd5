"""Orphaned records: a live child whose parent is missing or soft-deleted, per reference.

On raw they describe the source's quality (WARNING: the app lets them happen across
bounded contexts); on marts they must be zero (ERROR), because the integrity models
quarantine them before they reach a mart.
"""

from __future__ import annotations

from collections import defaultdict

from expectations.checks import Check, Severity, Suite, group_into_suites
from expectations.relations import MARTS, ORPHAN_REFERENCES, Reference, in_marts, key_column, raw_is_live

CONCERN = "orphans"


def raw_orphan_check(reference: Reference) -> Check:
    child_key, parent_key = key_column(reference.child), key_column(reference.parent)
    not_null = f"\n    and child.{reference.column} is not null" if reference.nullable else ""
    query = f"""
select
    child.{child_key} as record_key,
    child.tenant_id,
    child.{reference.column}
from {{batch}} as child
left join raw.{reference.parent} as parent
    on parent.{parent_key} = child.{reference.column}
where {raw_is_live(reference.child, "child")}{not_null}
    and (parent.{parent_key} is null or not ({raw_is_live(reference.parent, "parent")}))
order by child.{child_key}
"""
    return Check(
        name=f"orphan_{reference.label}",
        query=query.strip(),
        description=f"live raw.{reference.child} rows whose {reference.column} is missing or deleted "
        f"in raw.{reference.parent}",
    )


def raw_suites() -> list[Suite]:
    checks: dict[str, list[Check]] = defaultdict(list)
    for reference in ORPHAN_REFERENCES:
        checks[f"raw.{reference.child}"].append(raw_orphan_check(reference))
    return group_into_suites(CONCERN, Severity.WARNING, checks)


def mart_orphan_check(reference: Reference) -> Check:
    child, parent = MARTS[reference.child], MARTS[reference.parent]
    not_null = f"\n    and child.{reference.column} is not null" if reference.nullable else ""
    query = f"""
select
    child.{child.key} as record_key,
    child.tenant_id,
    child.{reference.column}
from {{batch}} as child
left join {parent.relation} as parent
    on parent.{parent.key} = child.{reference.column}
where not child.is_deleted{not_null}
    and (parent.{parent.key} is null or parent.is_deleted)
order by child.{child.key}
"""
    return Check(
        name=f"orphan_{reference.label}",
        query=query.strip(),
        description=f"live {child.relation} rows whose {reference.column} is missing or deleted in {parent.relation}",
    )


def mart_suites() -> list[Suite]:
    checks: dict[str, list[Check]] = defaultdict(list)
    for reference in in_marts(ORPHAN_REFERENCES):
        checks[MARTS[reference.child].relation].append(mart_orphan_check(reference))
    return group_into_suites(CONCERN, Severity.ERROR, checks)
