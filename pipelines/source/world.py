"""The generated database held in memory between building and loading.

Each table is a `Frame`: column name -> numpy array (see copytext for how dtypes are
written). Builders also keep integer row indexes (`idx`) that relate rows across
tables, so lookups are array indexing rather than joins on uuid text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines.source.clock import Clock

Frame = dict[str, np.ndarray]


@dataclass
class World:
    seed: int
    scale: float
    clock: Clock
    tables: dict[str, Frame] = field(default_factory=dict)
    idx: dict[str, np.ndarray] = field(default_factory=dict)

    def rows(self, table: str) -> int:
        frame = self.tables[table]
        return len(next(iter(frame.values())))


def scaled(scale: float, at_scale_one: int, minimum: int = 1) -> int:
    """Row count of something that is `at_scale_one` at scale 1."""
    return max(minimum, round(at_scale_one * scale))


def spread(rng: np.random.Generator, total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """`total` items shared out by `weights`, each share at least `minimum`."""
    extra = max(total - minimum * len(weights), 0)
    return rng.multinomial(extra, weights / weights.sum()) + minimum


def pick_within(
    rng: np.random.Generator, groups: np.ndarray, candidates: np.ndarray, group_of: np.ndarray, n_groups: int
) -> np.ndarray:
    """For each entry of `groups`, a uniformly random candidate of that group.

    `candidates` are row indexes into `group_of` (each row's group). Groups without
    candidates yield -1.
    """
    members = candidates[np.argsort(group_of[candidates], kind="stable")]
    counts = np.bincount(group_of[members], minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    size = counts[groups]
    offset = np.floor(rng.random(len(groups)) * size).astype(np.int64)
    picked = members[np.minimum(starts[groups] + offset, max(len(members) - 1, 0))] if len(members) else groups * 0
    return np.where(size > 0, picked, -1)


def text(values, dtype: str | None = None) -> np.ndarray:
    """Python strings -> an S array (ASCII vocabulary)."""
    return np.array([v.encode() for v in values], dtype=dtype or "S")
