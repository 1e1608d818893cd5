"""Which extraction failures are worth retrying: the rule the Dagster RetryPolicy relies on."""

from __future__ import annotations

import psycopg

from pipelines.lib.extract.copy import CopyError


def is_transient(error: BaseException) -> bool:
    """True for a lost or refused connection (a server restarting): a retry may succeed.

    Everything else (schema drift, a held lock, bad SQL, bad data) fails the same way
    again, so it must fail at once instead of after a series of retries.
    """
    if isinstance(error, CopyError):
        return error.transient
    return isinstance(error, psycopg.OperationalError)
