"""Validation of every value that reaches SQL or dbt from a user.

One place for the rules, so the CLI, dbt vars and Dagster run config reject the same
things with the same words, before any SQL runs.
"""

from __future__ import annotations

import re
from datetime import date

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class InvalidInput(ValueError):
    """A user-supplied value that is not what it must be; the message names the field."""


def tenant_slug(value: str, field: str = "tenant slug") -> str:
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise InvalidInput(f"{field} {value!r} is not valid: use lowercase letters, digits and '-' (at most 63)")
    return value


def role_name(value: str, field: str = "role name") -> str:
    if not isinstance(value, str) or not _ROLE.fullmatch(value):
        raise InvalidInput(f"{field} {value!r} is not valid: use lowercase letters, digits and '_' (at most 63)")
    return value


def iso_date(value: str | date, field: str = "date") -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise InvalidInput(f"{field} {value!r} is not an ISO date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} {value!r} is not a real calendar date") from None


def month(value: str, field: str = "month") -> date:
    """'2025-03' -> date(2025, 3, 1)."""
    match = _MONTH.fullmatch(value) if isinstance(value, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput(f"{field} {value!r} is not a month (YYYY-MM)")
    return date(int(match.group(1)), int(match.group(2)), 1)
