"""What a finance summary is asked for, validated before any SQL runs."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from pipelines.lib import validation


@dataclass(frozen=True)
class SummaryRequest:
    """A validated request: one tenant (`tenant_slug`) or all (`None`), whole months `first_month`..`last_month`."""

    tenant_slug: str | None
    first_month: date
    last_month: date

    @property
    def period_start(self) -> date:
        return self.first_month

    @property
    def period_end(self) -> date:
        """The last day of `last_month`: the date AR aging is taken at."""
        last_day = calendar.monthrange(self.last_month.year, self.last_month.month)[1]
        return self.last_month.replace(day=last_day)

    @property
    def months(self) -> list[date]:
        """Every month of the period, first days, in order (the spine every monthly section follows)."""
        months, current = [], self.first_month
        while current <= self.last_month:
            months.append(current)
            current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
        return months

    @property
    def scope(self) -> str:
        """'<slug>' or 'all-tenants': names output files."""
        return self.tenant_slug or "all-tenants"

    @property
    def label(self) -> str:
        return f"{self.scope}_{self.first_month:%Y-%m}_{self.last_month:%Y-%m}"


# A summary spans at most this many months: a typo such as 2205-01 should fail fast, not
# build a 2,000-month spine.
MAX_MONTHS = 240


def parse_request(tenant: str | None, all_tenants: bool, first: str, last: str) -> SummaryRequest:
    """Validate raw user input; raises `validation.InvalidInput` naming the bad value."""
    if bool(tenant) == bool(all_tenants):
        raise validation.InvalidInput("give exactly one of --tenant SLUG or --all-tenants")
    slug = validation.tenant_slug(tenant, "--tenant") if tenant else None
    first_month = validation.month(first, "--from")
    last_month = validation.month(last, "--to")
    if first_month > last_month:
        raise validation.InvalidInput(f"--from {first} is after --to {last}")
    request = SummaryRequest(slug, first_month, last_month)
    if len(request.months) > MAX_MONTHS:
        raise validation.InvalidInput(f"--from {first} --to {last} spans more than {MAX_MONTHS} months")
    return request
