"""One writer at a time for the project's shared files (dbt's target/, the GX Data Docs).

The Dagster webserver and daemon load the definitions at once, parallel runs validate at
once, and the test suite runs on parallel workers: two writers of one manifest or one Data
Docs site hand a reader a half-written file. An advisory lock (flock) on a file beside
them serializes the writers; the kernel releases it if the holder dies.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(directory: Path, name: str) -> Iterator[None]:
    """Hold the lock `<directory>/.<name>.lock` (the directory is created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
