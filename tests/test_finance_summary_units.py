"""Finance summary pure logic (no database): input validation, month spine, money, sections, charts, CLI errors."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.cli import main as warehouse
from pipelines.lib import validation
from pipelines.lib.finance_summary import WarehouseNotReady, aging_date, build_summary, parse_request
from pipelines.lib.finance_summary.charts import bar_chart, share_chart
from pipelines.lib.finance_summary.formats import display, money
from pipelines.lib.finance_summary.output import write_directory_atomically, write_file_atomically
from pipelines.lib.finance_summary.sections import aging_section, occupancy_section, revenue_section
from pipelines.settings import get_settings

TENANTS = pd.DataFrame(
    {"tenant_id": ["t1"], "tenant_slug": ["paws-inn"], "tenant_name": ["Paws Inn"], "currency": ["USD"]}
)


@pytest.mark.parametrize(
    ("tenant", "all_tenants", "first", "last", "message"),
    [
        ("Paws Inn", False, "2025-01", "2025-02", "--tenant 'Paws Inn' is not valid"),
        ("x'; drop table t; --", False, "2025-01", "2025-02", "is not valid"),
        ("paws-inn", False, "2025-13", "2026-01", "--from '2025-13' is not a month (YYYY-MM)"),
        ("paws-inn", False, "2025-01", "2025/02", "--to '2025/02' is not a month"),
        ("paws-inn", False, "2026-02", "2026-01", "--from 2026-02 is after --to 2026-01"),
        ("paws-inn", False, "1900-01", "2026-01", "spans more than 240 months"),
        (None, False, "2025-01", "2025-02", "exactly one of --tenant SLUG or --all-tenants"),
        ("paws-inn", True, "2025-01", "2025-02", "exactly one of --tenant SLUG or --all-tenants"),
    ],
)
def test_bad_input_is_rejected_with_a_message_naming_it(tenant, all_tenants, first, last, message):
    with pytest.raises(validation.InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_request(tenant, all_tenants, first, last)


def test_request_spans_whole_months_across_a_year_end():
    request = parse_request("paws-inn", False, "2025-11", "2026-02")
    assert request.months == [dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)]
    assert request.period_end == dt.date(2026, 2, 28)
    assert request.label == "paws-inn_2025-11_2026-02"
    assert parse_request(None, True, "2024-02", "2024-02").period_end == dt.date(2024, 2, 29)


def test_aging_is_taken_at_period_end_or_today_when_the_period_is_not_over():
    request = parse_request("paws-inn", False, "2026-01", "2026-06")
    assert aging_date(request, today=dt.date(2026, 11, 21)) == dt.date(2026, 6, 30)
    assert aging_date(request, today=dt.date(2026, 6, 12)) == dt.date(2026, 6, 12)


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "0.00"), (5, "0.05"), (-5, "-0.05"), (123456789, "1,234,567.89"), (-100000, "-1,000.00")]
)
def test_money_is_exact_from_integer_cents(cents, text):
    assert money(cents) == text


def test_display_by_kind():
    assert display(dt.date(2026, 3, 1), "month") == "2026-03"
    assert display(0.1234, "percent") == "12.3%"
    assert display(None, "percent") == ""
    assert display(12345, "count") == "12,345"


def test_monthly_sections_fill_every_month_and_never_divide_by_zero():
    months = [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    monthly = pd.DataFrame(
        {
            "tenant_id": ["t1"],
            "month": [dt.date(2026, 2, 1)],
            "invoiced_cents": [100],
            "collected_cents": [90],
            "refunded_cents": [10],
            "net_cents": [80],
        }
    )
    revenue = revenue_section(monthly, TENANTS, months)
    assert revenue.rows() == [
        ("paws-inn", "Paws Inn", "USD", dt.date(2026, 1, 1), 0, 0, 0, 0),
        ("paws-inn", "Paws Inn", "USD", dt.date(2026, 2, 1), 100, 90, 10, 80),
        ("paws-inn", "Paws Inn", "USD", dt.date(2026, 3, 1), 0, 0, 0, 0),
    ]
    occupancy = pd.DataFrame(
        {"tenant_id": ["t1", "t1"], "month": months[1:], "occupied_nights": [5, 0], "capacity_nights": [10, 0]}
    )
    rates = [row[-1] for row in occupancy_section(occupancy, TENANTS, months).rows()]
    assert rates == [None, 0.5, None]  # no capacity: no rate, not a division by zero


def test_aging_lists_all_five_buckets_in_order():
    aging = pd.DataFrame({"tenant_id": ["t1"], "bucket": ["90+"], "open_cents": [700], "invoice_count": [2]})
    section = aging_section(aging, TENANTS, dt.date(2026, 6, 30))
    assert [row[-3:] for row in section.rows()] == [
        ("current", 0, 0),
        ("1-30", 0, 0),
        ("31-60", 0, 0),
        ("61-90", 0, 0),
        ("90+", 700, 2),
    ]


def test_charts_are_inline_svg_with_escaped_text_and_no_url():
    bars = bar_chart("Revenue <by> month", ["2026-01", "2026-02"], {"Net": [100.0, -50.0], "Gap": [None, 1.0]}, str)
    share = share_chart("Mix", ["card", "cash & <co>"], [75.0, 25.0], str)
    for svg in (bars, share):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert "http" not in svg and "<script" not in svg
    assert "Revenue &lt;by&gt; month" in bars
    assert "cash &amp; &lt;co&gt;" in share and "(25.0%)" in share
    assert share_chart("Mix", [], [], str).count("no succeeded payments") == 1


@pytest.fixture()
def unreachable_warehouse(monkeypatch, tmp_path):
    """Settings whose databases cannot be reached: a command that connects fails differently."""
    for name in ("OPS_DATABASE_URL", "WAREHOUSE_DATABASE_URL", "DAGSTER_DATABASE_URL"):
        monkeypatch.setenv(name, "postgresql://nobody:secret@127.0.0.1:1/none")
    monkeypatch.setenv("KENNELWORKS_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tenant", "BAD_slug", "--from", "2025-01", "--to", "2025-02"], "error: --tenant 'BAD_slug' is not valid"),
        (["--tenant", "paws-inn", "--from", "2025-1", "--to", "2025-02"], "error: --from '2025-1' is not a month"),
        (["--all-tenants", "--from", "2025-03", "--to", "2025-02"], "error: --from 2025-03 is after --to 2025-02"),
    ],
)
def test_cli_rejects_bad_input_before_connecting(unreachable_warehouse, capsys, argv, message):
    assert warehouse(["finance", "summary", *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith(message)
    assert "secret" not in error
    assert not (unreachable_warehouse / "reports").exists()


def _failing_writer(target):
    (target / "part.csv" if target.is_dir() else target).write_text("half")
    raise RuntimeError("disk full")


def test_a_failed_write_leaves_the_previous_export_intact(tmp_path):
    file, directory = tmp_path / "summary.html", tmp_path / "summary-csv"
    write_file_atomically(file, lambda tmp: tmp.write_text("good"))
    write_directory_atomically(directory, lambda tmp: (tmp / "revenue.csv").write_text("good"))
    for write, path in ((write_file_atomically, file), (write_directory_atomically, directory)):
        with pytest.raises(RuntimeError, match="disk full"):
            write(path, _failing_writer)
    assert file.read_text() == "good"
    assert [p.name for p in directory.iterdir()] == ["revenue.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary-csv", "summary.html"]  # no temporary leftovers


def test_an_unreachable_warehouse_is_named_without_its_password():
    request = parse_request("paws-inn", False, "2025-01", "2025-02")
    with pytest.raises(WarehouseNotReady) as error:
        build_summary("postgresql://finance:s3cret@127.0.0.1:1/warehouse", request)
    assert "cannot read the warehouse at postgresql://finance:***@127.0.0.1:1/warehouse" in str(error.value)
    assert "s3cret" not in str(error.value)
