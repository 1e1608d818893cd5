"""Variables set in this process's environment for a while: dbt and Dagster read their
settings (connection, run date, instance home) from the environment, never from arguments."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def temporary_environ(values: Mapping[str, str]) -> Iterator[None]:
    """`values` set in os.environ, the previous values (or their absence) restored afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
