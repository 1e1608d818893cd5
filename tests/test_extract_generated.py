"""Extraction of a realistic source: generated at scale 0.01, then two simulated days of app traffic."""

from __future__ import annotations

from datetime import date

import psycopg
from extract_support import assert_raw_matches_source, databases, empty_pair, scalar  # noqa: F401 (fixtures)

from pipelines.lib.extract import REGISTRY, load_all
from pipelines.source.generate import generate
from pipelines.source.simulate import simulate


def test_generated_source_then_simulated_traffic_lands_row_for_row(empty_pair, tmp_path):  # noqa: F811
    ops, warehouse = empty_pair
    generate(ops, scale=0.01, seed=11, reference_date=date(2026, 11, 1), manifest_path=tmp_path / "manifest.json")
    load_all(ops, warehouse)
    traffic = simulate(ops, days=2, seed=11)

    results = {result.table: result for result in load_all(ops, warehouse)}
    rerun = load_all(ops, warehouse)

    for table in REGISTRY:
        assert_raw_matches_source(ops, warehouse, table)
    hard_deleted = traffic.actions["hard_deleted"] + traffic.actions["walks_deleted"]
    assert hard_deleted > 0
    flagged = scalar(warehouse, "select count(*) from raw.reservations where _deleted_in_source_at is not null")
    flagged += scalar(warehouse, "select count(*) from raw.activities where _deleted_in_source_at is not null")
    assert flagged == results["reservations"].rows_flagged_deleted + results["activities"].rows_flagged_deleted
    assert flagged > 0
    with psycopg.connect(warehouse) as conn:  # flagged rows are exactly the keys gone from the source
        gone = conn.execute("select id from raw.reservations where _deleted_in_source_at is not null").fetchall()
    with psycopg.connect(ops) as conn:
        still_there = conn.execute("select count(*) from app.reservations where id = any(%s)", ([g for (g,) in gone],))
        assert still_there.fetchone()[0] == 0
    assert sum(result.rows_inserted + result.rows_updated for result in results.values()) > 0
    assert sum(result.rows_written for result in rerun) == 0
