"""Dates and instants of generated data, relative to the reference date.

The generated database is the app's state at `as_of` = 00:00 UTC of the reference date:
every instant lies before it, so traffic simulated later with the real clock (the
reference date defaults to today) always moves `updated_at` forward. Stays, activities
and invoices carry tenant-local dates; instants are made from a local date and a local
time of day in the tenant's IANA zone (DST gaps shift forward, folds take the first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

DAY = np.timedelta64(1, "D")
SECOND = np.timedelta64(1, "s")


@dataclass(frozen=True)
class Clock:
    reference_date: date
    timezones: tuple[str, ...]  # per tenant index

    @property
    def today(self) -> np.datetime64:
        return np.datetime64(self.reference_date, "D")

    @property
    def as_of(self) -> np.datetime64:
        return self.today.astype("datetime64[s]")

    @property
    def history_start(self) -> np.datetime64:
        """Four years before the reference date."""
        return self.today - 4 * 365 * DAY - DAY

    @property
    def horizon(self) -> np.datetime64:
        """Bookings reach six months past the reference date (exclusive)."""
        return self.today + 183 * DAY

    def local_instant(self, tenant: np.ndarray, day: np.ndarray, second_of_day: np.ndarray) -> np.ndarray:
        """UTC instants (datetime64[s]) of local `day` + `second_of_day` in each row's tenant zone."""
        naive = day.astype("datetime64[s]") + second_of_day.astype(np.int64) * SECOND
        out = np.empty(len(naive), "datetime64[s]")
        for index, zone in enumerate(self.timezones):
            rows = np.flatnonzero(tenant == index)
            if len(rows) == 0:
                continue
            local = pd.DatetimeIndex(naive[rows]).tz_localize(
                zone, ambiguous=np.ones(len(rows), bool), nonexistent="shift_forward"
            )
            out[rows] = local.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[s]")
        return out

    def before_as_of(self, instants: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Instants at or after `as_of` (the evening of the last day in western zones) pulled
        back to a random moment in the hour before it; NaT stays NaT."""
        late = ~np.isnat(instants) & (instants >= self.as_of)
        pulled = self.as_of - rng.integers(60, 3600, len(instants)) * SECOND
        return np.where(late, pulled, instants)


def local_seconds(rng: np.random.Generator, n: int, start_hour: int, end_hour: int) -> np.ndarray:
    """Random local times of day between two whole hours, in seconds."""
    return rng.integers(start_hour * 3600, end_hour * 3600, n)


def seasonal_day_weights(days: np.ndarray, today: np.datetime64) -> np.ndarray:
    """Relative booking demand per start day: summer and year-end peaks, Thanksgiving,
    ~12 %/year growth, and future days thinning out (not booked yet)."""
    ts = pd.DatetimeIndex(days)
    month, dom = ts.month.to_numpy(), ts.day.to_numpy()
    weight = np.ones(len(days))
    weight += 0.7 * np.isin(month, (6, 7, 8))
    weight += 0.9 * (((month == 12) & (dom >= 18)) | ((month == 1) & (dom <= 3)))
    weight += 0.4 * ((month == 11) & (dom >= 21) & (dom <= 29))
    weight += 0.15 * (ts.dayofweek.to_numpy() == 4)  # Friday starts
    years_back = (today - days).astype(np.int64) / 365.0
    weight *= np.power(1.12, -np.clip(years_back, 0, None))
    ahead = (days - today).astype(np.int64)
    weight *= np.where(ahead >= 0, np.exp(-np.clip(ahead, 0, None) / 45.0), 1.0)
    return weight / weight.sum()
