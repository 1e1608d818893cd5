"""Schema drift: new columns are followed; dropped, renamed and retyped ones stop the load untouched."""

from __future__ import annotations

import pytest
from extract_support import assert_raw_matches_source, databases, empty_pair, execute, scalar, seed_source  # noqa: F401 (fixtures)

from pipelines.lib.extract import SchemaDriftError, load_table
from pipelines.lib.extract.drift import plan_columns


@pytest.fixture()
def loaded(empty_pair):  # noqa: F811
    """Source and warehouse after a first load of reservations, with one pending change in the source."""
    ops, warehouse = empty_pair
    seed_source(ops, customers=20)
    load_table(ops, warehouse, "reservations")
    execute(
        ops,
        "update app.reservations set status = 'cancelled' "
        "where id = (select id from app.reservations order by id limit 1)",
    )
    return ops, warehouse


def _untouched(warehouse: str) -> tuple:
    return (
        scalar(warehouse, "select count(*) from meta.load_log"),
        scalar(warehouse, "select watermark from meta.extract_state where table_name = 'reservations'"),
        scalar(warehouse, "select count(*) from raw.reservations where status = 'cancelled'"),
    )


def test_new_source_column_is_added_to_raw_and_reported(loaded):
    ops, warehouse = loaded
    execute(
        ops,
        "alter table app.reservations add column channel varchar(20)",
        "update app.reservations set channel = 'web' where id = (select id from app.reservations order by id limit 1)",
    )

    result = load_table(ops, warehouse, "reservations")

    assert result.columns_added == ("channel",)
    assert scalar(warehouse, "select count(*) from raw.reservations where channel = 'web'") == 1
    assert (
        scalar(
            warehouse,
            "select format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = 'raw.reservations'::regclass and attname = 'channel'",
        )
        == "character varying(20)"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "alter table app.reservations alter column notes type varchar(50) using left(notes, 50)",
            "raw.reservations: source column notes changed type text -> character varying(50)",
        ),
        (
            "alter table app.reservations drop column notes",
            "raw.reservations: source column notes was dropped or renamed",
        ),
        (
            "alter table app.reservations rename column notes to staff_notes",
            "raw.reservations: source column notes was dropped or renamed; new source columns: staff_notes",
        ),
    ],
    ids=["retyped", "dropped", "renamed"],
)
def test_incompatible_drift_fails_naming_table_and_column_and_writes_nothing(loaded, change, message):
    ops, warehouse = loaded
    before = _untouched(warehouse)
    execute(ops, change)

    with pytest.raises(SchemaDriftError) as raised:
        load_table(ops, warehouse, "reservations")

    assert str(raised.value).startswith(message)
    assert _untouched(warehouse) == before


def test_full_refresh_adopts_the_new_shape_after_drift(loaded):
    ops, warehouse = loaded
    execute(ops, "alter table app.reservations alter column notes type varchar(50) using left(notes, 50)")

    result = load_table(ops, warehouse, "reservations", full_refresh=True)

    assert result.mode == "full_refresh"
    assert_raw_matches_source(ops, warehouse, "reservations")
    assert load_table(ops, warehouse, "reservations").rows_written == 0  # and incremental loads work again


def test_plan_lists_every_problem_at_once():
    source = [("id", "uuid"), ("notes", "character varying(50)"), ("memo", "text")]
    raw = [("id", "uuid"), ("notes", "text"), ("status", "text")]
    with pytest.raises(SchemaDriftError) as raised:
        plan_columns("raw.reservations", source, raw)
    assert str(raised.value).startswith(
        "raw.reservations: source column notes changed type text -> character varying(50); "
        "source column status was dropped or renamed; new source columns: memo"
    )


def test_plan_adds_new_columns_in_source_order():
    plan = plan_columns("raw.t", [("b", "int"), ("id", "uuid"), ("a", "text")], [("id", "uuid")])
    assert plan.added == (("b", "int"), ("a", "text"))
