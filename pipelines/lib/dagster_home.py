"""The Dagster instance of the project: runs, events and schedules in PostgreSQL.

`prepare_dagster_home()` writes `<home>/dagster/dagster.yaml`; it names environment
variables, never values, for the connection, so the file holds no password.
`dagster_environment()` gives those variables (plus DAGSTER_HOME) for the process that
runs Dagster — the UI, the daemon, or `warehouse run`, which sets them for the run only
(`pipelines.lib.environ.temporary_environ`).
"""

from __future__ import annotations

from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from pipelines.settings import PROJECT_ROOT, Settings

WEBSERVER_HOST = "127.0.0.1"

DAGSTER_YAML = """\
# Written by kennelworks (pipelines/lib/dagster_home.py); edit there.
storage:
  # dagster-postgres, keeping a connection per process instead of one per event.
  custom:
    module: pipelines.lib.dagster_storage
    class: PooledPostgresStorage
    config:
      postgres_db:
        hostname: {env: KENNELWORKS_DAGSTER_PG_HOST}
        port: {env: KENNELWORKS_DAGSTER_PG_PORT}
        username: {env: KENNELWORKS_DAGSTER_PG_USER}
        password: {env: KENNELWORKS_DAGSTER_PG_PASSWORD}
        db_name: {env: KENNELWORKS_DAGSTER_PG_DB}
        # dagster-postgres is written for psycopg2 (its NOTIFY does not work with psycopg 3,
        # which SQLAlchemy 2.1 picks for a bare postgresql:// URL).
        scheme: postgresql+psycopg2

# A run whose process died (not one that failed on its own) is retried.
run_retries:
  enabled: true
  max_retries: 2
  retry_on_asset_or_op_failure: false

concurrency:
  # Two runs at a time (2 cores; the database does the parallel work).
  runs:
    max_concurrent_runs: 2
  # Steps that write the same schema share a pool of one slot (pool = the schema).
  pools:
    default_limit: 1

telemetry:
  enabled: false

code_servers:
  local_startup_timeout: 300
"""


def dagster_home(settings: Settings) -> Path:
    return settings.home / "dagster"


def prepare_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME with its dagster.yaml (idempotent); return its path."""
    home = dagster_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)
    return home


def dagster_environment(settings: Settings, dagster_url: str) -> dict[str, str]:
    """Environment for a Dagster process: its home and the storage connection."""
    parts = conninfo_to_dict(dagster_url)
    return {
        "DAGSTER_HOME": str(prepare_dagster_home(settings)),
        "KENNELWORKS_DAGSTER_PG_HOST": str(parts.get("host") or "127.0.0.1"),
        "KENNELWORKS_DAGSTER_PG_PORT": str(parts.get("port") or 5432),
        "KENNELWORKS_DAGSTER_PG_USER": str(parts.get("user") or ""),
        "KENNELWORKS_DAGSTER_PG_PASSWORD": str(parts.get("password") or ""),
        "KENNELWORKS_DAGSTER_PG_DB": str(parts.get("dbname") or "dagster"),
    }


WORKSPACE_FILE = PROJECT_ROOT / "workspace.yaml"
