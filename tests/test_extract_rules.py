"""The pure rules of extraction: watermark maths, what is retried, the registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from pipelines.lib.extract import REGISTRY, CopyError, SchemaDriftError, table_spec
from pipelines.lib.extract.errors import is_transient
from pipelines.lib.extract.watermark import advance, lower_bound
from pipelines.source.schema import metadata

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_first_load_reads_everything_and_later_loads_look_back():
    assert lower_bound(None, timedelta(minutes=15)) is None
    assert lower_bound(NOON, timedelta(minutes=15)) == NOON - timedelta(minutes=15)
    with pytest.raises(ValueError, match="lookback must not be negative"):
        lower_bound(NOON, timedelta(minutes=-1))


def test_watermark_follows_the_data_and_never_moves_back():
    assert advance(None, NOON) == NOON
    assert advance(NOON, None) == NOON  # an empty batch keeps it
    assert advance(NOON, NOON - timedelta(minutes=5)) == NOON  # a late commit below the watermark
    assert advance(NOON, NOON + timedelta(seconds=1)) == NOON + timedelta(seconds=1)


def test_only_connection_failures_are_retried():
    assert is_transient(psycopg.OperationalError("connection refused"))
    assert is_transient(CopyError("server closed the connection unexpectedly", transient=True))
    assert not is_transient(CopyError('relation "app.x" does not exist'))
    assert not is_transient(SchemaDriftError("raw.x: source column y was dropped or renamed"))
    assert not is_transient(psycopg.errors.UndefinedColumn("column does not exist"))


def test_registry_covers_every_source_table_with_its_key():
    assert set(REGISTRY) == {table.name for table in metadata.sorted_tables}
    assert table_spec("customer_stats").primary_key == ("customer_id",)
    assert table_spec("audit_log").watermark_column == "updated_at"
    with pytest.raises(KeyError, match="unknown source table 'kennels'"):
        table_spec("kennels")
