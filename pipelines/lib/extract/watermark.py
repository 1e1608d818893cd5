"""Watermark maths: which rows a batch reads and where the watermark moves afterwards.

Pure functions, so the rules that decide what is extracted are tested without a database.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def lower_bound(watermark: datetime | None, lookback: timedelta) -> datetime | None:
    """First `updated_at` a batch reads; None means "everything" (first load).

    The lookback re-reads rows stamped just below the watermark, because a transaction
    that started before the last batch but committed after it carries an older
    `updated_at` than rows the last batch already saw (a "late commit").
    """
    if lookback < timedelta(0):
        raise ValueError(f"lookback must not be negative, got {lookback}")
    if watermark is None:
        return None
    return watermark - lookback


def advance(watermark: datetime | None, batch_max: datetime | None) -> datetime | None:
    """The watermark after a batch: the newest `updated_at` seen, never moving backwards.

    It is a value read from the data, never the clock: a clock-based watermark skips
    rows whose transaction committed after the clock was read.
    """
    if batch_max is None:
        return watermark
    if watermark is None:
        return batch_max
    return max(watermark, batch_max)
