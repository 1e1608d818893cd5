"""Drift: stored figures against figures recomputed from their facts.

- stats: app-maintained `customer_stats` / `team_progress` against live raw activities
  (and live team members); the app updates them in the activity's transaction, so they
  can drift. Tolerance in metres and seconds, default exact.
- volume: the rows each raw table landed on its latest load day against the trailing
  28 days (3 sigma), from `meta.load_log`.
- finance: `rpt_finance_monthly` against sums of the ledger, exact (see `finance_suites`).
"""

from __future__ import annotations

from dataclasses import dataclass

from expectations.checks import Check, Severity, Suite
from expectations.relations import raw_is_live
from pipelines.source.schema import metadata

STATS_CONCERN = "stats_drift"
VOLUME_CONCERN = "volume_drift"
VOLUME_WINDOW_DAYS = 28
VOLUME_SIGMAS = 3
VOLUME_MIN_HISTORY_DAYS = 7  # fewer days with loads in the window: no baseline yet, no verdict


@dataclass(frozen=True)
class StatsTolerance:
    """How far a stored total may be from the recomputed one before it counts as drift."""

    distance_m: int = 0
    duration_s: int = 0


EXACT = StatsTolerance()


def customer_stats_check(tolerance: StatsTolerance) -> Check:
    query = f"""
with

recomputed as (
    select
        activities.tenant_id,
        activities.customer_id,
        sum(activities.distance_m) as total_distance_m,
        sum(activities.duration_s) as total_duration_s,
        count(*) as activity_count
    from raw.activities as activities
    where {raw_is_live("activities", "activities")}
    group by activities.tenant_id, activities.customer_id
)

select
    stats.customer_id as record_key,
    stats.tenant_id,
    stats.total_distance_m as stored_distance_m,
    coalesce(recomputed.total_distance_m, 0) as recomputed_distance_m,
    stats.total_duration_s as stored_duration_s,
    coalesce(recomputed.total_duration_s, 0) as recomputed_duration_s,
    stats.activity_count as stored_activity_count,
    coalesce(recomputed.activity_count, 0) as recomputed_activity_count
from {{batch}} as stats
left join recomputed
    on recomputed.tenant_id = stats.tenant_id
    and recomputed.customer_id = stats.customer_id
where {raw_is_live("customer_stats", "stats")}
    and (
        abs(stats.total_distance_m - coalesce(recomputed.total_distance_m, 0)) > {int(tolerance.distance_m)}
        or abs(stats.total_duration_s - coalesce(recomputed.total_duration_s, 0)) > {int(tolerance.duration_s)}
        or stats.activity_count <> coalesce(recomputed.activity_count, 0)
    )
"""
    return Check(
        name="drifted_customer_stats",
        query=query.strip(),
        description="customer_stats totals that differ from the customer's live activities "
        f"(tolerance {tolerance.distance_m} m, {tolerance.duration_s} s, counts exact)",
    )


def team_progress_check(tolerance: StatsTolerance) -> Check:
    query = f"""
with

distance as (
    select
        activities.tenant_id,
        activities.team_id,
        sum(activities.distance_m) as total_distance_m
    from raw.activities as activities
    where {raw_is_live("activities", "activities")}
        and activities.team_id is not null
    group by activities.tenant_id, activities.team_id
),

members as (
    select
        team_members.tenant_id,
        team_members.team_id,
        count(*) as member_count
    from raw.team_members as team_members
    where {raw_is_live("team_members", "team_members")}
        and team_members.left_at is null
    group by team_members.tenant_id, team_members.team_id
)

select
    progress.team_id as record_key,
    progress.tenant_id,
    progress.total_distance_m as stored_distance_m,
    coalesce(distance.total_distance_m, 0) as recomputed_distance_m,
    progress.member_count as stored_member_count,
    coalesce(members.member_count, 0) as recomputed_member_count
from {{batch}} as progress
left join distance
    on distance.tenant_id = progress.tenant_id
    and distance.team_id = progress.team_id
left join members
    on members.tenant_id = progress.tenant_id
    and members.team_id = progress.team_id
where {raw_is_live("team_progress", "progress")}
    and (
        abs(progress.total_distance_m - coalesce(distance.total_distance_m, 0)) > {int(tolerance.distance_m)}
        or progress.member_count <> coalesce(members.member_count, 0)
    )
"""
    return Check(
        name="drifted_team_progress",
        query=query.strip(),
        description="team_progress totals that differ from the team's live activities and current members "
        f"(tolerance {tolerance.distance_m} m, member counts exact)",
    )


def stats_suites(tolerance: StatsTolerance = EXACT) -> list[Suite]:
    return [
        Suite(STATS_CONCERN, "raw.customer_stats", Severity.WARNING, (customer_stats_check(tolerance),)),
        Suite(STATS_CONCERN, "raw.team_progress", Severity.WARNING, (team_progress_check(tolerance),)),
    ]


def volume_check(table: str) -> Check:
    """The latest load day of `table` whose landed rows are beyond 3 sigma of the 28 days before it.

    Landed rows = inserted + updated + flagged deleted by incremental loads (a first load
    or a full refresh is not traffic). Days in the window without a load count as zero.
    """
    query = f"""
with

daily as (
    select
        (load_log.started_at at time zone 'UTC')::date as load_date,
        sum(load_log.rows_inserted + load_log.rows_updated + load_log.rows_flagged_deleted) as row_volume
    from meta.load_log as load_log
    where load_log.table_name = '{table}'
        and load_log.mode = 'incremental'
    group by 1
),

latest as (
    select * from daily
    order by load_date desc
    limit 1
),

trailing_days as (
    select
        window_days.load_date,
        coalesce(daily.row_volume, 0) as row_volume
    from latest
    cross join lateral (
        select (latest.load_date - offset_days) as load_date
        from generate_series(1, {VOLUME_WINDOW_DAYS}) as offset_days
    ) as window_days
    left join daily
        on daily.load_date = window_days.load_date
),

baseline as (
    select
        avg(trailing_days.row_volume) as mean_volume,
        stddev_samp(trailing_days.row_volume) as sigma,
        count(*) filter (where trailing_days.row_volume > 0) as days_with_loads
    from trailing_days
)

select
    '{table}' as table_name,
    latest.load_date,
    latest.row_volume,
    round(baseline.mean_volume, 1) as trailing_mean,
    round(baseline.sigma, 1) as trailing_sigma
from latest
cross join baseline
where baseline.days_with_loads >= {VOLUME_MIN_HISTORY_DAYS}
    and abs(latest.row_volume - baseline.mean_volume) > {VOLUME_SIGMAS} * baseline.sigma
"""
    return Check(
        name=f"volume_{table}",
        query=query.strip(),
        description=f"rows landed in raw.{table} on its latest load day beyond {VOLUME_SIGMAS} sigma "
        f"of the trailing {VOLUME_WINDOW_DAYS} days (needs {VOLUME_MIN_HISTORY_DAYS} days with loads)",
    )


def volume_suites() -> list[Suite]:
    return [
        Suite(VOLUME_CONCERN, f"raw.{table.name}", Severity.WARNING, (volume_check(table.name),))
        for table in metadata.sorted_tables
    ]


FINANCE_CONCERN = "finance_drift"

# The ledger every finance figure follows (DESIGN.md §4): live entries plus the archive.
LEDGER_SQL = """
    select tenant_id, kind, amount_cents, occurred_on from marts.fct_financial_transactions
    union all
    select tenant_id, kind, amount_cents, occurred_on from archive.financial_transactions
"""


def finance_monthly_check() -> Check:
    query = f"""
with

ledger as ({LEDGER_SQL}),

recomputed as (
    select
        ledger.tenant_id,
        date_trunc('month', ledger.occurred_on)::date as month,
        coalesce(sum(ledger.amount_cents) filter (where ledger.kind = 'charge'), 0) as invoiced_cents,
        coalesce(sum(ledger.amount_cents) filter (where ledger.kind = 'payment'), 0) as collected_cents,
        coalesce(-sum(ledger.amount_cents) filter (where ledger.kind = 'refund'), 0) as refunded_cents
    from ledger
    group by ledger.tenant_id, date_trunc('month', ledger.occurred_on)
),

reported as (
    select tenant_id, month, invoiced_cents, collected_cents, refunded_cents, net_cents
    from {{batch}}
)

select
    coalesce(reported.tenant_id, recomputed.tenant_id) as tenant_id,
    coalesce(reported.month, recomputed.month) as month,
    reported.invoiced_cents as reported_invoiced_cents,
    recomputed.invoiced_cents as ledger_invoiced_cents,
    reported.collected_cents as reported_collected_cents,
    recomputed.collected_cents as ledger_collected_cents,
    reported.refunded_cents as reported_refunded_cents,
    recomputed.refunded_cents as ledger_refunded_cents,
    reported.net_cents as reported_net_cents
from reported
full outer join recomputed
    on recomputed.tenant_id = reported.tenant_id
    and recomputed.month = reported.month
where reported.tenant_id is null
    or recomputed.tenant_id is null
    or reported.invoiced_cents <> recomputed.invoiced_cents
    or reported.collected_cents <> recomputed.collected_cents
    or reported.refunded_cents <> recomputed.refunded_cents
    or reported.net_cents <> recomputed.collected_cents - recomputed.refunded_cents
"""
    return Check(
        name="finance_monthly_matches_ledger",
        query=query.strip(),
        description="tenant months where rpt_finance_monthly differs from the ledger (live + archive), to the cent",
    )


def finance_suites() -> list[Suite]:
    return [Suite(FINANCE_CONCERN, "reporting.rpt_finance_monthly", Severity.ERROR, (finance_monthly_check(),))]
