"""Hand-built source rows for the finance and engagement dbt tests, where every answer is known.

Rows go into the SOURCE database (app schema), the way production data flows; the tests then
extract them with load_all and run the real dbt. Ids are fixed uuids with readable tails, so
a failing assertion names the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
from psycopg import sql


def uid(kind: int, n: int) -> uuid.UUID:
    """A readable fixed uuid: kind in the 4th group, n in the last (…-000k-00000000000n)."""
    return uuid.UUID(f"00000000-0000-0000-{kind:04x}-{n:012x}")


def insert(conn: psycopg.Connection, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert dict rows into app.<table> (each dict names its columns)."""
    for row in rows:
        columns = list(row)
        conn.execute(
            sql.SQL("insert into app.{} ({}) values ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            ),
            [row[column] for column in columns],
        )


def tenant(n: int, timezone: str) -> dict[str, Any]:
    return {"id": uid(1, n), "slug": f"tenant-{n}", "name": f"Tenant {n}", "timezone": timezone, "plan": "pro"}


def customer(n: int, tenant_n: int, first: str, last: str, deleted: bool = False) -> dict[str, Any]:
    row = {
        "id": uid(2, n),
        "tenant_id": uid(1, tenant_n),
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}@example.com",
        "phone": "+1 555 0100",
    }
    if deleted:
        row["deleted_at"] = "2026-01-01T00:00:00Z"
    return row
