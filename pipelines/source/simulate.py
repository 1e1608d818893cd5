"""Days of app traffic on the generated source, through ordinary INSERT/UPDATE/DELETE.

Each simulated day runs in one transaction, as the app would: the audit trigger writes
audit_log and `updated_at` takes the real clock (now()), so it is always later than every
earlier value; a few "late commits" set updated_at explicitly a few minutes in the past
(inside the warehouse's 15-minute extraction lookback). Business dates and instants
(start_date, checked_in_at, paid_at, activity_date, ...) lie on the simulated day, in the
tenant's time zone. The day after the last simulated one is kept in generator.runs.

What a day holds: new bookings, confirmations (a suite is assigned where one is free),
check-ins (with a draft invoice), check-outs (invoice issued, most paid at once),
payments of open invoices, refunds, reschedules to another month, cancellations, soft
deletes of cancelled bookings, hard deletes of soft-deleted cancelled bookings and of a
few walks, and new walks with customer_stats / team_progress updated in step.

Rows recorded in the anomaly manifest are left alone, so the manifest stays exact, and no
traffic creates a new anomaly (nothing is paid twice, stats move with their activities).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import psycopg

from pipelines.source import vocab
from pipelines.source.build_boarding import SUITE_CODES
from pipelines.source.copytext import rng_for, uuids
from pipelines.source.manifest import anomaly_keys, current_run

BOOKABLE_DAYS = 4 * 365 + 183  # the generated booking window, for the daily booking rate
STAY_SERVICE = {vocab.SUITES[code][3]: code for code in SUITE_CODES}
LATE_COMMIT = timedelta(minutes=5)


class SimulateError(Exception):
    """Simulation cannot run (no generated data yet, bad arguments)."""


@dataclass(frozen=True)
class SimulateResult:
    first_day: date
    last_day: date
    actions: dict[str, int]
    seconds: float


@dataclass
class _Context:
    """What stays fixed over a run: who can book, which services, what to leave alone."""

    per_day: int
    bookers: list[tuple[str, str, str, str]]  # tenant_id, customer_id, pet_id, species
    services: dict[tuple[str, str], tuple[str, int]]  # (tenant_id, suite) -> (service_id, price)
    walkers: list[tuple[str, str, str | None]]  # tenant_id, customer_id, team_id
    kept_out_customers: list[str]  # anomalous customers and stats: no new traffic


def simulate(ops_url: str, *, days: int, seed: int | None = None, progress: bool = False) -> SimulateResult:
    """Apply `days` days of traffic after the last simulated day (the reference date the first time)."""
    if days < 1:
        raise SimulateError(f"days must be at least 1, got {days}")
    started = time.perf_counter()
    actions: Counter[str] = Counter()
    with psycopg.connect(ops_url) as conn:
        run = current_run(conn)
        if run is None:
            raise SimulateError("no generated source data: run `warehouse source generate` first")
        seed = run.seed if seed is None else seed
        ctx = _context(conn)
        conn.commit()
        first = run.simulated_through + timedelta(days=1)
        for offset in range(days):
            day = first + timedelta(days=offset)
            rng = rng_for(seed, f"simulate {day.isoformat()}")
            today: Counter[str] = Counter()
            with conn.transaction():
                conn.execute("select set_config('app.user', 'simulator', true)")
                _day(conn, ctx, day, rng, today)
                conn.execute("update generator.runs set simulated_through = %s", (day,))
            actions.update(today)
            if progress:
                print(f"  {day}: " + ", ".join(f"{k} {v}" for k, v in sorted(today.items()) if v), flush=True)
    return SimulateResult(first, first + timedelta(days=days - 1), dict(actions), time.perf_counter() - started)


def _context(conn: psycopg.Connection) -> _Context:
    keys = anomaly_keys(conn)
    # customers with drifted stats or odd names book and walk no more (their rows stay as recorded)
    kept_out = sorted(keys.get("customer_stats", set()) | keys.get("customers", set()))
    bookers = [
        row
        for row in conn.execute("""
        select c.tenant_id::text, c.id::text, p.id::text, p.species
        from app.customers c join app.pets p on p.customer_id = c.id
        where c.deleted_at is null and p.deleted_at is null order by p.id""")
        if row[1] not in kept_out
    ]
    services = {}
    for tenant, service, name, price in conn.execute("""
            select tenant_id::text, id::text, name, price_cents from app.services
            where deleted_at is null and category in ('boarding', 'daycare')"""):
        if name in STAY_SERVICE:
            services[(tenant, STAY_SERVICE[name])] = (service, price)
    drifted_teams = keys.get("team_progress", set())
    walkers = [
        (t, c, team if team not in drifted_teams else None)
        for t, c, team in conn.execute("""
        select s.tenant_id::text, s.customer_id::text, (
            select m.team_id::text from app.team_members m join app.teams tm on tm.id = m.team_id
            where m.tenant_id = s.tenant_id and m.customer_id = s.customer_id and m.left_at is null
              and tm.deleted_at is null
            order by m.joined_at, m.id limit 1)
        from app.customer_stats s join app.customers c on c.id = s.customer_id
        where c.deleted_at is null order by s.customer_id""")
        if c not in kept_out
    ]
    reservations = conn.execute("select count(*) from app.reservations").fetchone()[0]
    return _Context(max(3, round(reservations / BOOKABLE_DAYS)), bookers, services, walkers, kept_out)


def _untouched(table: str, alias: str) -> str:
    """SQL: the row is not in the anomaly manifest (traffic leaves those rows alone)."""
    return (
        f"not exists (select 1 from generator.anomalies g where g.table_name = '{table}' "
        f"and g.record_key = {alias}.id::text)"
    )


# SQL: reservation `r` was never invoiced (it has no rows in the billing context)
_NO_INVOICE = "not exists (select 1 from app.invoices i where i.tenant_id = r.tenant_id and i.reservation_id = r.id)"

# SQL: invoice `i` has no payment recorded as an anomaly (it is neither paid further nor refunded)
_INVOICE_UNTOUCHED = """not exists (
    select 1 from generator.anomalies g join app.payments gp on gp.id = g.record_key::uuid
    where g.table_name = 'payments' and gp.invoice_id = i.id)"""


def _pick(rng: np.random.Generator, rows: list, share: float, at_most: int | None = None) -> list:
    """A random share of `rows` (at least one when there are any), in a stable order."""
    if not rows:
        return []
    k = min(len(rows), max(1, round(len(rows) * share)), at_most or len(rows))
    return [rows[i] for i in sorted(rng.choice(len(rows), k, replace=False))]


def _ids(conn: psycopg.Connection, sql: str, params: dict) -> list:
    return conn.execute(sql, params).fetchall()


def _local(column_day: str, seconds: str, zone: str = "t.timezone") -> str:
    """SQL for the instant `seconds` after local midnight of a day in a tenant's zone."""
    return f"(({column_day})::timestamp + ({seconds}) * interval '1 second') at time zone {zone}"


def _day(conn: psycopg.Connection, ctx: _Context, day: date, rng: np.random.Generator, actions: Counter) -> None:
    params = {"day": day}
    _book(conn, ctx, day, rng, actions)

    # confirm a share of pending bookings, giving them a suite that is free for the stay
    pending = _ids(
        conn,
        f"""select id from app.reservations r where status = 'pending' and deleted_at is null
                            and start_date > %(day)s and {_untouched("reservations", "r")} order by id""",
        params,
    )
    chosen = [row[0] for row in _pick(rng, pending, 0.05)]
    actions["confirmed"] += _update(
        conn,
        f"""
        update app.reservations r set status = 'confirmed', version = version + 1,
            resource_id = coalesce(r.resource_id, {_FREE_SUITE})
        where r.id = any(%(ids)s)""",
        chosen,
    )

    # arrivals: check in (a draft invoice opens) or no-show
    arriving = _ids(
        conn,
        f"""select id from app.reservations r where start_date = %(day)s and deleted_at is null
                             and status in ('pending', 'confirmed') and {_untouched("reservations", "r")}
                             order by id""",
        params,
    )
    no_show = {row[0] for row in _pick(rng, arriving, 0.04)} if len(arriving) > 10 else set()
    checking_in = [row[0] for row in arriving if row[0] not in no_show]
    actions["no_show"] += _update(
        conn,
        "update app.reservations set status = 'no_show', version = version + 1 where id = any(%(ids)s)",
        sorted(no_show),
    )
    actions["checked_in"] += _update(
        conn,
        f"""
        update app.reservations r set status = 'checked_in', version = version + 1,
            resource_id = coalesce(r.resource_id, {_FREE_SUITE}),
            checked_in_at = {_local("r.start_date", "25200 + (hashtext(r.id::text) & 16383)")}
        from app.tenants t where t.id = r.tenant_id and r.id = any(%(ids)s)""",
        checking_in,
    )
    _open_draft_invoices(conn, checking_in, rng)

    # departures: check out, issue the invoice, most pay at once
    leaving = [
        row[0]
        for row in _ids(
            conn,
            f"""
        select id from app.reservations r where end_date = %(day)s and status = 'checked_in' and deleted_at is null
        and {_untouched("reservations", "r")} order by id""",
            params,
        )
    ]
    actions["checked_out"] += _update(
        conn,
        f"""
        update app.reservations r set status = 'checked_out', version = version + 1,
            checked_out_at = greatest({_local("r.end_date", "28800 + (hashtext(r.id::text) & 8191)")},
                                      r.checked_in_at + interval '1 minute')
        from app.tenants t where t.id = r.tenant_id and r.id = any(%(ids)s)""",
        leaving,
    )
    issued = [
        row[0]
        for row in conn.execute(
            f"""
        update app.invoices i set status = 'open', issued_on = %(day)s, due_on = %(day)s + 14
        where reservation_id = any(%(ids)s) and status = 'draft' and {_INVOICE_UNTOUCHED}
        returning id""",
            {**params, "ids": leaving},
        ).fetchall()
    ]
    actions["invoices_issued"] += len(issued)
    paying = [invoice for invoice in issued if rng.random() < 0.6]
    open_invoices = _ids(
        conn,
        f"""select id from app.invoices i where status = 'open' and issued_on < %(day)s
                                  and deleted_at is null and {_INVOICE_UNTOUCHED} order by id""",
        params,
    )
    paying += [row[0] for row in _pick(rng, open_invoices, 0.05, at_most=ctx.per_day)]
    actions["payments"] += _pay(conn, day, paying, rng)
    actions["refunds"] += _refund(conn, ctx, day, rng, params)

    # changes of plan: reschedules to another month, cancellations, deletes
    future = _ids(
        conn,
        f"""select id from app.reservations r where status in ('pending', 'confirmed')
                           and start_date > %(day)s + 1 and deleted_at is null and {_untouched("reservations", "r")}
                           order by id""",
        params,
    )
    moving = _pick(rng, future, 0.01, at_most=max(1, ctx.per_day // 10))
    for (reservation,) in moving:
        shift = int(rng.integers(32, 76))  # 32+ days always lands in another month
        actions["rescheduled"] += conn.execute(
            """
            update app.reservations set start_date = start_date + %s, end_date = end_date + %s,
                resource_id = null, version = version + 1 where id = %s""",
            (shift, shift, reservation),
        ).rowcount
    moved = {row[0] for row in moving}
    cancelling = [
        row[0] for row in _pick(rng, [r for r in future if r[0] not in moved], 0.01, at_most=max(1, ctx.per_day // 8))
    ]
    actions["cancelled"] += _update(
        conn,
        "update app.reservations set status = 'cancelled', version = version + 1 where id = any(%(ids)s)",
        cancelling,
    )
    cancelled = _ids(
        conn,
        f"""select id from app.reservations r where status = 'cancelled' and deleted_at is null
                              and {_untouched("reservations", "r")}
                              and {_NO_INVOICE}
                              order by id""",
        params,
    )
    soft = [row[0] for row in _pick(rng, cancelled, 0.01, at_most=max(1, ctx.per_day // 20))]
    actions["soft_deleted"] += _update(
        conn, "update app.reservations set deleted_at = now(), version = version + 1 where id = any(%(ids)s)", soft
    )
    gone = _ids(
        conn,
        f"""select id from app.reservations r where status = 'cancelled' and deleted_at is not null
                         and {_untouched("reservations", "r")} and id <> all(%(soft)s)
                         and {_NO_INVOICE}
                         order by id""",
        {**params, "soft": soft},
    )
    hard = [row[0] for row in _pick(rng, gone, 0.01, at_most=max(1, ctx.per_day // 50))]
    actions["hard_deleted"] += _update(conn, "delete from app.reservations where id = any(%(ids)s)", hard)

    _walk(conn, ctx, day, rng, actions)
    actions["late_commits"] += _late_commits(conn, rng, params)


# a live, active suite of the stay's type and tenant with room on every night of the stay
_FREE_SUITE = """(
    select s.id from app.resources s
    where s.tenant_id = r.tenant_id and s.suite_type = r.requested_suite_type and s.deleted_at is null
      and s.is_active
      and (select count(*) from app.reservations o
           where o.tenant_id = s.tenant_id and o.resource_id = s.id and o.deleted_at is null
             and o.status not in ('cancelled', 'no_show') and o.id <> r.id
             and o.start_date < r.end_date and o.end_date > r.start_date) < s.capacity
    order by s.id limit 1)"""


def _update(conn: psycopg.Connection, sql: str, ids: list) -> int:
    if not ids:
        return 0
    return conn.execute(sql, {"ids": ids}).rowcount


def _book(conn: psycopg.Connection, ctx: _Context, day: date, rng: np.random.Generator, actions: Counter) -> None:
    """New pending bookings, 1-120 days ahead, as staff type them (canonical suite codes)."""
    n = int(rng.poisson(ctx.per_day))
    if n == 0 or not ctx.bookers:
        return
    picks = rng.integers(0, len(ctx.bookers), n)
    ids = uuids(rng, n)
    dog_codes = list(vocab.DOG_SUITE_SHARES)
    rows = []
    for k, pick in enumerate(picks.tolist()):
        tenant, customer, pet, species = ctx.bookers[pick]
        suite = (
            "cat_condo"
            if species == "cat"
            else dog_codes[rng.choice(len(dog_codes), p=list(vocab.DOG_SUITE_SHARES.values()))]
        )
        service = ctx.services.get((tenant, suite))
        if service is None:
            continue
        nights = 1 if suite == "daycare" else int(np.clip(round(rng.lognormal(1.15, 0.65)), 1, 21))
        start = day + timedelta(days=int(rng.integers(1, 121)))
        rows.append(
            (
                ids[k].decode(),
                tenant,
                customer,
                pet,
                service[0],
                suite,
                start,
                start + timedelta(days=nights),
                nights * service[1],
            )
        )
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into app.reservations (id, tenant_id, customer_id, pet_id, service_id, requested_suite_type,
                                          status, start_date, end_date, total_cents)
            values (%s, %s, %s, %s, %s, %s, 'pending', %s, %s, %s)""",
            rows,
        )
    actions["booked"] += len(rows)


def _open_draft_invoices(conn: psycopg.Connection, reservations: list, rng: np.random.Generator) -> None:
    """A draft invoice with the stay line for each checked-in reservation."""
    for reservation in reservations:
        invoice_id, line_id = (value.decode() for value in uuids(rng, 2))
        conn.execute(
            """
            with r as (
                select r.*, s.name as service_name, s.price_cents,
                       (r.end_date - r.start_date) as nights,
                       coalesce((select max(substring(i.number from 5)::bigint) from app.invoices i
                                 where i.tenant_id = r.tenant_id), 0) + 1 as next_number
                from app.reservations r join app.services s on s.id = r.service_id where r.id = %(reservation)s
            ),
            invoice as (
                insert into app.invoices (id, tenant_id, customer_id, reservation_id, number, status,
                                          subtotal_cents, tax_cents, total_cents)
                select %(invoice)s, tenant_id, customer_id, id, 'INV-' || next_number, 'draft',
                       nights * price_cents, 0, nights * price_cents from r
                returning id
            )
            insert into app.invoice_lines (id, tenant_id, invoice_id, service_id, description, quantity,
                                           unit_price_cents, amount_cents)
            select %(line)s, r.tenant_id, invoice.id, r.service_id, r.service_name, r.nights, r.price_cents,
                   r.nights * r.price_cents
            from r, invoice""",
            {"reservation": reservation, "invoice": invoice_id, "line": line_id},
        )


def _pay(conn: psycopg.Connection, day: date, invoices: list, rng: np.random.Generator) -> int:
    """Pay what is still due on each invoice, at a local business hour; the invoice becomes paid."""
    paid = 0
    for invoice in invoices:
        payment_id = uuids(rng, 1)[0].decode()
        method = ("card", "cash", "ach", "gift_card")[rng.choice(4, p=(0.7, 0.1, 0.12, 0.08))]
        seconds = int(rng.integers(0, 3600)) if rng.random() < 0.04 else int(rng.integers(8 * 3600, 22 * 3600))
        paid += conn.execute(
            f"""
            insert into app.payments (id, tenant_id, invoice_id, amount_cents, method, status, paid_at)
            select %(id)s, i.tenant_id, i.id, i.total_cents - coalesce(
                       (select sum(p.amount_cents) from app.payments p
                        where p.tenant_id = i.tenant_id and p.invoice_id = i.id and p.status = 'succeeded'), 0),
                   %(method)s, 'succeeded', {_local("%(day)s::date", "%(seconds)s")}
            from app.invoices i join app.tenants t on t.id = i.tenant_id
            where i.id = %(invoice)s and i.status = 'open' and i.total_cents > coalesce(
                (select sum(p.amount_cents) from app.payments p
                 where p.tenant_id = i.tenant_id and p.invoice_id = i.id and p.status = 'succeeded'), 0)""",
            {"id": payment_id, "method": method, "day": day, "seconds": seconds, "invoice": invoice},
        ).rowcount
        conn.execute("update app.invoices set status = 'paid' where id = %s and status = 'open'", (invoice,))
    return paid


def _refund(conn: psycopg.Connection, ctx: _Context, day: date, rng: np.random.Generator, params: dict) -> int:
    """~3 % of recent payments are refunded, in part or in full, never beyond the payment."""
    recent = _ids(
        conn,
        f"""
        select p.id, p.amount_cents from app.payments p join app.invoices i on i.id = p.invoice_id
        where p.status = 'succeeded' and p.amount_cents > 0 and p.paid_at > %(day)s::date - 30
          and {_INVOICE_UNTOUCHED}
          and not exists (select 1 from app.refunds f where f.payment_id = p.id)
        order by p.id""",
        params,
    )
    refunded = 0
    for payment, amount in _pick(rng, recent, 0.03 / 30):
        share = 1.0 if rng.random() < 0.5 else float(rng.uniform(0.1, 0.9))
        refunded += conn.execute(
            f"""
            insert into app.refunds (id, tenant_id, payment_id, amount_cents, reason, refunded_at)
            select %s, p.tenant_id, p.id, %s, %s, greatest({_local("%s::date", "%s")}, p.paid_at + interval '1 hour')
            from app.payments p join app.tenants t on t.id = p.tenant_id where p.id = %s""",
            (
                uuids(rng, 1)[0].decode(),
                max(1, round(amount * share)),
                vocab.REFUND_REASONS[rng.integers(0, len(vocab.REFUND_REASONS))],
                day,
                int(rng.integers(9 * 3600, 18 * 3600)),
                payment,
            ),
        ).rowcount
    return refunded


def _walk(conn: psycopg.Connection, ctx: _Context, day: date, rng: np.random.Generator, actions: Counter) -> None:
    """New walks with their stats, and a few walks deleted with their stats taken back."""
    n = min(len(ctx.walkers), int(rng.poisson(ctx.per_day * 3)))
    for pick in sorted(rng.choice(len(ctx.walkers), n, replace=False).tolist()) if n else []:
        tenant, customer, team = ctx.walkers[pick]
        distance = int(np.clip(round(rng.lognormal(np.log(3500), 0.5)), 300, 25_000))
        duration = round(distance / rng.uniform(1.1, 1.7))
        route = json.dumps(
            [
                {"lat": round(float(x), 5), "lng": round(float(y), 5)}
                for x, y in rng.normal(0, 0.01, (int(rng.integers(2, 6)), 2)).cumsum(axis=0)
            ]
        )
        conn.execute(
            """
            insert into app.activities (id, tenant_id, customer_id, team_id, activity_date, distance_m, duration_s,
                                        route)
            values (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (uuids(rng, 1)[0].decode(), tenant, customer, team, day, distance, duration, route),
        )
        _move_stats(conn, customer, team, distance, duration, +1, day)
        actions["walks"] += 1
    deletable = conn.execute(
        f"""
        select a.id, a.customer_id::text, a.team_id::text, a.distance_m, a.duration_s from app.activities a
        where a.deleted_at is null and a.activity_date < %(day)s and {_untouched("activities", "a")}
          and a.customer_id::text <> all(%(keep_out)s) order by a.id limit 2000""",
        {"day": day, "keep_out": ctx.kept_out_customers},
    ).fetchall()
    teams = {w[2] for w in ctx.walkers if w[2]}
    for activity, customer, team, distance, duration in _pick(rng, deletable, 0.001, at_most=3):
        if team is not None and team not in teams:
            continue  # a team whose progress we do not keep in step
        conn.execute("delete from app.activities where id = %s", (activity,))
        _move_stats(conn, customer, team, distance, duration, -1, None)
        actions["walks_deleted"] += 1


def _move_stats(
    conn: psycopg.Connection, customer: str, team: str | None, distance: int, duration: int, sign: int, day: date | None
) -> None:
    """Keep customer_stats (and team_progress) equal to the sums over live activities."""
    conn.execute(
        """
        update app.customer_stats set total_distance_m = total_distance_m + %(d)s,
            total_duration_s = total_duration_s + %(s)s, activity_count = activity_count + %(n)s,
            last_activity_date = case when %(n)s > 0 then greatest(last_activity_date, %(day)s)
                                      else (select max(activity_date) from app.activities a
                                            where a.tenant_id = customer_stats.tenant_id
                                              and a.customer_id = %(customer)s and a.deleted_at is null) end
        where customer_id = %(customer)s""",
        {"d": sign * distance, "s": sign * duration, "n": sign, "day": day, "customer": customer},
    )
    if team is not None:
        conn.execute(
            "update app.team_progress set total_distance_m = total_distance_m + %s where team_id = %s",
            (sign * distance, team),
        )


def _late_commits(conn: psycopg.Connection, rng: np.random.Generator, params: dict) -> int:
    """A few rows committed late: updated_at set explicitly minutes in the past."""
    future = _ids(
        conn,
        f"""select id from app.reservations r where status in ('pending', 'confirmed')
                           and deleted_at is null and {_untouched("reservations", "r")}
                           order by id limit 5000""",
        params,
    )
    late = 0
    for (reservation,) in _pick(rng, future, 0.0005, at_most=3):
        late += conn.execute(
            """
            update app.reservations set notes = coalesce(notes || ' ', '') || 'Called to confirm',
                version = version + 1, updated_at = now() - %s where id = %s""",
            (LATE_COMMIT, reservation),
        ).rowcount
    return late
