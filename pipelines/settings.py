"""Every environment variable the project reads, read once, here.

Everything else receives a `Settings` object (or something built from it), so the
whole configuration surface of the warehouse is visible in this one file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Typed view of the environment.

    A database URL left unset means "use the embedded server under `home`".
    """

    home: Path
    ops_url: str | None
    warehouse_url: str | None
    dagster_url: str | None
    admin_password: str | None
    pii_salt: str | None
    extract_lookback_minutes: int
    # Seconds a load waits for another load of the same table before failing clearly.
    extract_lock_wait_seconds: int = 60
    # Test hook: the extraction pauses forever at this named point ("copy", "upsert"),
    # so a crash test can SIGKILL it at a known place instead of sleeping and hoping.
    extract_pause_at: str | None = None

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def uses_embedded_server(self) -> bool:
        return not (self.ops_url and self.warehouse_url and self.dagster_url)


def _int(env, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None


def read_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("KENNELWORKS_HOME") or PROJECT_ROOT / ".warehouse").expanduser().resolve()
    return Settings(
        home=home,
        ops_url=env.get("OPS_DATABASE_URL") or None,
        warehouse_url=env.get("WAREHOUSE_DATABASE_URL") or None,
        dagster_url=env.get("DAGSTER_DATABASE_URL") or None,
        admin_password=env.get("KENNELWORKS_ADMIN_PASSWORD") or None,
        pii_salt=env.get("KENNELWORKS_PII_SALT") or None,
        extract_lookback_minutes=_int(env, "KENNELWORKS_EXTRACT_LOOKBACK_MINUTES", 15),
        extract_lock_wait_seconds=_int(env, "KENNELWORKS_EXTRACT_LOCK_WAIT_SECONDS", 60),
        extract_pause_at=env.get("KENNELWORKS_EXTRACT_PAUSE_AT") or None,
    )


@cache
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return read_settings()
