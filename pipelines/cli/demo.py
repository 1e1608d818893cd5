"""`warehouse demo`: the whole warehouse on generated data, step by step, as a user would.

Each step is one of the documented `warehouse` commands, run in order through the same
entry point, so the demo exercises exactly what the README tells people to type.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from pipelines.settings import PROJECT_ROOT

DATA_DOCS_INDEX = PROJECT_ROOT / "expectations" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="build everything from generated data and write the reports")
    demo.add_argument("--scale", default="0.05", help="source data scale (1 = ~10M rows; default 0.05)")
    demo.add_argument("--seed", default="7")
    demo.set_defaults(handler=_demo)


def _step(title: str, argv: list[str]) -> None:
    from pipelines.cli import UserError, main

    print(f"\n== {title}: warehouse {' '.join(argv)}", flush=True)
    started = time.perf_counter()
    code = main(argv)
    if code != 0:
        raise UserError(f"demo step failed: warehouse {' '.join(argv)} (exit {code})")
    print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)


def _demo(args) -> int:
    from pipelines.settings import get_settings

    started = time.perf_counter()
    reports = get_settings().home / "reports"
    _step("database server", ["db", "up"])
    _step("operational source schema", ["source", "create"])
    _step("source data", ["source", "generate", "--scale", args.scale, "--seed", args.seed])
    _derived_state_afresh()
    _step("roles and privileges", ["access", "init"])
    # The source was just regenerated (rows may carry timestamps older than the stored
    # watermarks), so the first load replaces raw atomically; the nightly run is then incremental.
    _step("land the new source in raw", ["extract", "--full-refresh"])
    _step("nightly pipeline (extract, dbt build, data-quality checks)", ["run", "--job", "warehouse_nightly"])
    slugs = _demo_tenants()
    for slug in slugs:
        _step(f"tenant analyst for {slug}", ["access", "grant-tenant", slug])
    last = date.today().replace(day=1)
    first = last.replace(year=last.year - 2)
    finance_files = []
    for slug in slugs:
        out = reports / "finance" / f"finance-summary-{slug}.html"
        _step(
            f"finance summary for {slug}",
            [
                "finance",
                "summary",
                "--tenant",
                slug,
                "--from",
                first.strftime("%Y-%m"),
                "--to",
                last.strftime("%Y-%m"),
                "--format",
                "html",
                "--out",
                str(out),
            ],
        )
        finance_files.append(out)
    _step("data-quality report", ["dq", "report", "--output", str(reports / "data-quality.html")])
    _step("dbt docs", ["dbt", "docs"])
    _print_summary(slugs, finance_files, reports, time.perf_counter() - started)
    return 0


def _derived_state_afresh() -> None:
    """The source was just generated anew: another world, not the previous one with rows
    purged. What the warehouse derived from the previous one goes, so that nothing of it
    survives beside the new data: the archive keeps the entries of purged source rows by
    contract (append-only, never rebuilt away), and with it the archived daily figures; a
    second demo on another day (another reference date) found the previous world's archive
    beside the new ledger (live + archive = ledger failed). Every dbt schema, the build
    records and the data-quality history are dropped; `access init`, the build and the
    checks create them again. raw is replaced by the full extraction that follows."""
    from psycopg import sql

    from pipelines.lib.access import TRANSFORMER_SCHEMAS
    from pipelines.lib.databases import connect, database_urls

    print("\n== the warehouse's derived state, of the previous source: dropped", flush=True)
    with connect(database_urls().warehouse) as conn:
        for schema in TRANSFORMER_SCHEMAS:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
        conn.execute("drop table if exists meta.dbt_node_builds, meta.dbt_test_scope")


def _demo_tenants() -> list[str]:
    import psycopg

    from pipelines.lib.databases import database_urls

    with psycopg.connect(database_urls().warehouse) as conn:
        rows = conn.execute(
            "select slug from raw.tenants where deleted_at is null and _deleted_in_source_at is null "
            "order by slug limit 2"
        ).fetchall()
    return [row[0] for row in rows]


def _print_summary(slugs: list[str], finance_files: list, reports, seconds: float) -> None:
    import psycopg

    from pipelines.lib.access import default_tenant_role, psql_hint
    from pipelines.lib.databases import database_urls, mask_url
    from pipelines.settings import PROJECT_ROOT, get_settings
    from pipelines.source.schema import metadata

    urls = database_urls()
    print("\n== source tables (ops.app) -> raw")
    with psycopg.connect(urls.ops) as ops, psycopg.connect(urls.warehouse) as warehouse:
        print(f"   {'table':<24}{'source rows':>14}{'raw rows':>14}")
        for table in metadata.sorted_tables:
            source_rows = ops.execute(f"select count(*) from app.{table.name}").fetchone()[0]
            raw_rows = warehouse.execute(f"select count(*) from raw.{table.name}").fetchone()[0]
            print(f"   {table.name:<24}{source_rows:>14,}{raw_rows:>14,}")
        print("\n== reporting relations")
        for (name,) in warehouse.execute(
            "select schemaname || '.' || relname from pg_stat_user_tables where schemaname in ('reporting', 'archive') "
            "union select schemaname || '.' || matviewname from pg_matviews where schemaname = 'reporting' order by 1"
        ).fetchall():
            rows = warehouse.execute(f"select count(*) from {name}").fetchone()[0]
            print(f"   {name:<44}{rows:>12,} rows")
    home = get_settings().home
    print("\n== where to look")
    for path in finance_files:
        print(f"   finance summary     {path}")
    print(f"   data-quality report {reports / 'data-quality.html'}")
    print(f"   Data Docs           {DATA_DOCS_INDEX}")
    print(
        f"   dbt docs            {PROJECT_ROOT / 'target' / 'index.html'}"
        "  (serve: .venv/bin/dbt docs serve --project-dir . --profiles-dir .)"
    )
    print("   Dagster UI          make ui   -> http://127.0.0.1:3000 (schedules and sensors run under its daemon)")
    print(f"   warehouse database  {mask_url(urls.warehouse)}   (admin password: {home / 'admin.password'})")
    for slug in slugs:
        role = default_tenant_role(slug)
        print(f"   tenant analyst      {psql_hint(role, home / 'credentials' / (role + '.pgpass'), urls.warehouse)}")
    print(f"\ndemo finished in {seconds:.0f} s")
    sys.stdout.flush()
