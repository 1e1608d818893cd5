"""The generator's own records: what was generated, what was injected, how far simulated.

Kept in schema `generator` of the ops database (never `app`, which the warehouse
extracts) and, for the injected anomalies, also as a JSON file:

    {"seed": 1, "scale": 0.01, "reference_date": "2026-11-21",
     "counts": {"orphan_pet_customer": 3, ...},
     "anomalies": [{"table": "pets", "key": "<primary key>", "tenant_id": "<uuid>",
                    "anomaly": "orphan_pet_customer", "details": {...}}, ...]}
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

SCHEMA_SQL = """
create schema if not exists generator;
create table if not exists generator.runs (
    seed bigint not null,
    scale double precision not null,
    reference_date date not null,
    generated_at timestamptz not null default now(),
    simulated_through date not null,
    anomaly_rates jsonb not null
);
create table if not exists generator.anomalies (
    table_name text not null,
    record_key text not null,
    tenant_id uuid,
    anomaly text not null,
    details jsonb not null,
    primary key (table_name, record_key)
);
"""


@dataclass(frozen=True)
class Run:
    seed: int
    scale: float
    reference_date: date
    simulated_through: date


def record_run(conn: psycopg.Connection, run: Run, rates: dict[str, float], entries: list[dict]) -> None:
    """Replace the recorded run and anomalies (inside the caller's transaction)."""
    conn.execute(SCHEMA_SQL)
    conn.execute("truncate generator.runs, generator.anomalies")
    conn.execute(
        "insert into generator.runs (seed, scale, reference_date, simulated_through, anomaly_rates) "
        "values (%s, %s, %s, %s, %s)",
        (run.seed, run.scale, run.reference_date, run.simulated_through, Jsonb(rates)),
    )
    with conn.cursor().copy(
        "copy generator.anomalies (table_name, record_key, tenant_id, anomaly, details) from stdin"
    ) as copy:
        for entry in entries:
            copy.write_row(
                (
                    entry["table"],
                    entry["key"],
                    entry["tenant_id"],
                    entry["anomaly"],
                    json.dumps(entry["details"], ensure_ascii=False),
                )
            )


def current_run(conn: psycopg.Connection) -> Run | None:
    exists = conn.execute("select to_regclass('generator.runs') is not null").fetchone()[0]
    if not exists:
        return None
    row = conn.execute("select seed, scale, reference_date, simulated_through from generator.runs").fetchone()
    return Run(*row) if row else None


def anomaly_keys(conn: psycopg.Connection) -> dict[str, set[str]]:
    """Recorded anomaly keys per table (simulated traffic leaves these rows alone)."""
    keys: dict[str, set[str]] = {}
    for table, key in conn.execute("select table_name, record_key from generator.anomalies"):
        keys.setdefault(table, set()).add(key)
    return keys


def write_manifest(path: Path, run: Run, entries: list[dict]) -> None:
    """Write the JSON manifest atomically (a reader never sees half a file)."""
    document = {
        "seed": run.seed,
        "scale": run.scale,
        "reference_date": run.reference_date.isoformat(),
        "counts": dict(sorted(Counter(entry["anomaly"] for entry in entries).items())),
        "anomalies": entries,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, ensure_ascii=False, indent=1))
    os.replace(partial, path)


def read_manifest(path: Path) -> dict:
    return json.loads(Path(path).read_text())
