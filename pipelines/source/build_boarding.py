"""Reservations: seasonal stays over four years back and six months ahead.

Statuses follow the dates (seen from 00:00 UTC of the reference date): stays that ended
before it are checked_out / cancelled / no_show, stays under way are checked_in, later
ones pending / confirmed / cancelled. Suites are sized to the stays' demand; they are given out first-fit by start date
within each tenant's pool of a suite type, so stays respect suite capacity unless a pool
is full (then the stay is overbooked onto a random suite of its type, as staff do).
"""

from __future__ import annotations

import heapq

import numpy as np

from pipelines.source import vocab
from pipelines.source.build_parties import settle_signups
from pipelines.source.clock import DAY, SECOND, local_seconds, seasonal_day_weights
from pipelines.source.copytext import rng_for, uuids
from pipelines.source.schema import RESERVATION_STATUSES
from pipelines.source.world import World, pick_within, scaled, text

SUITE_CODES = tuple(vocab.SUITES)
EXTRA_OFFSET = len(SUITE_CODES)  # a tenant's services: suite boarding, then extras, then one retired
SERVICES_PER_TENANT = len(SUITE_CODES) + len(vocab.EXTRAS) + 1
STATUS = {name: code for code, name in enumerate(RESERVATION_STATUSES)}
OCCUPYING = (STATUS["pending"], STATUS["confirmed"], STATUS["checked_in"], STATUS["checked_out"])
CAT, DAYCARE = SUITE_CODES.index("cat_condo"), SUITE_CODES.index("daycare")
SPECIES_CAT = tuple(vocab.SPECIES).index("cat")
VERSION_BY_STATUS = np.array([1, 2, 3, 4, 2, 3])  # updates a row has seen on the way to its status


def _statuses(rng: np.random.Generator, start: np.ndarray, end: np.ndarray, today: np.datetime64) -> np.ndarray:
    n = len(start)
    past = rng.choice([STATUS["checked_out"], STATUS["cancelled"], STATUS["no_show"]], n, p=(0.88, 0.08, 0.04))
    future = rng.choice([STATUS["pending"], STATUS["confirmed"], STATUS["cancelled"]], n, p=(0.3, 0.62, 0.08))
    return np.select([end < today, start < today], [past, STATUS["checked_in"]], future)


def _assign(
    rng: np.random.Generator,
    pool: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    world: World,
    occupies: np.ndarray,
    n_pools: int,
) -> np.ndarray:
    """Resource row index per stay (first fit by start date per pool), -1 where none."""
    live = np.flatnonzero(world.idx["resource_live"])
    resource_pool = world.idx["resource_tenant"] * len(SUITE_CODES) + world.idx["resource_suite"]
    slots = np.repeat(live, world.idx["resource_capacity"][live])
    slots = slots[np.argsort(resource_pool[slots], kind="stable")]
    slot_pool = resource_pool[slots]
    first_slot = np.searchsorted(slot_pool, np.arange(n_pools))
    slot_count = np.bincount(slot_pool, minlength=n_pools)

    chosen = pick_within(rng, pool, live, resource_pool, n_pools)  # a random suite: overbooking, cancellations
    start_day, end_day = start.astype(np.int64), end.astype(np.int64)
    order = np.flatnonzero(occupies)
    order = order[np.lexsort((start_day[order], pool[order]))]
    heaps: dict[int, list[tuple[int, int]]] = {}
    slots_list, first_list, count_list = slots.tolist(), first_slot.tolist(), slot_count.tolist()
    for i, p, s, e in zip(
        order.tolist(), pool[order].tolist(), start_day[order].tolist(), end_day[order].tolist(), strict=True
    ):
        heap = heaps.get(p)
        if heap is None:
            heap = heaps[p] = [(-(2**62), k) for k in range(count_list[p])]
        if heap and heap[0][0] <= s:
            k = heapq.heapreplace(heap, (e, heap[0][1]))[1]
            chosen[i] = slots_list[first_list[p] + k]
    return chosen


def draw_stays(world: World) -> None:
    """Who stays when, in which suite type, with which status (no resource yet)."""
    rng = rng_for(world.seed, "stays")
    clock = world.clock
    n_tenants = len(clock.timezones)
    n = scaled(world.scale, 1_000_000)
    days = np.arange(clock.history_start, clock.horizon)
    start = rng.choice(days, n, p=seasonal_day_weights(days, clock.today))
    start.sort()  # ids and rows in booking-calendar order, like an app's table

    customer_tenant = world.idx["customer_tenant"]
    live = np.flatnonzero(~world.idx["customer_deleted"])
    live_per_tenant = np.bincount(customer_tenant[live], minlength=n_tenants)
    tenant = rng.choice(n_tenants, n, p=live_per_tenant / live_per_tenant.sum())
    customer = pick_within(rng, tenant, live, customer_tenant, n_tenants)
    pet = world.idx["customer_first_pet"][customer] + np.floor(
        rng.random(n) * world.idx["customer_pet_count"][customer]
    ).astype(np.int64)
    dog_codes = [SUITE_CODES.index(code) for code in vocab.DOG_SUITE_SHARES]
    suite = np.where(
        world.idx["pet_species"][pet] == SPECIES_CAT,
        CAT,
        rng.choice(dog_codes, n, p=list(vocab.DOG_SUITE_SHARES.values())),
    )
    nights = np.where(suite == DAYCARE, 1, np.clip(np.rint(rng.lognormal(1.15, 0.65, n)), 1, 21)).astype(np.int64)
    end = start + nights * DAY
    status = _statuses(rng, start, end, clock.today)
    unassigned = (status == STATUS["pending"]) & (rng.random(n) < 0.5)
    world.idx.update(
        reservation_tenant=tenant,
        reservation_customer=customer,
        reservation_pet=pet,
        reservation_suite=suite,
        reservation_status=status,
        reservation_nights=nights,
        reservation_start=start,
        reservation_occupies=np.isin(status, OCCUPYING) & ~unassigned,
        reservation_unassigned=unassigned,
    )


def build_reservations(world: World) -> None:
    """Reservations; then customers' sign-up dates are settled before their first booking."""
    rng = rng_for(world.seed, "reservations")
    clock, idx = world.clock, world.idx
    n_tenants = len(clock.timezones)
    tenant, customer, pet, suite = (idx[f"reservation_{key}"] for key in ("tenant", "customer", "pet", "suite"))
    status, nights, start = idx["reservation_status"], idx["reservation_nights"], idx["reservation_start"]
    n = len(tenant)
    end = start + nights * DAY
    pool = tenant * len(SUITE_CODES) + suite
    resource = _assign(rng, pool, start, end, world, idx["reservation_occupies"], n_tenants * len(SUITE_CODES))
    resource[idx["reservation_unassigned"]] = -1

    # booked 0-200 days ahead, never before the tenant existed nor after the reference date
    lead = np.minimum(rng.exponential(25, n).astype(np.int64), 200)
    tenant_start = world.idx["tenant_created"][tenant].astype("datetime64[D]") + DAY
    booked_day = np.minimum(np.maximum(start - lead * DAY, tenant_start), clock.today - DAY)
    booked = clock.before_as_of(clock.local_instant(tenant, booked_day, local_seconds(rng, n, 7, 22)), rng)
    checked_in = np.isin(status, (STATUS["checked_in"], STATUS["checked_out"]))
    in_at = clock.local_instant(tenant, start, local_seconds(rng, n, 7, 11))
    out_at = clock.before_as_of(clock.local_instant(tenant, end, local_seconds(rng, n, 8, 12)), rng)
    in_at = np.where(checked_in, np.maximum(in_at, booked + SECOND), np.datetime64("NaT"))
    out_at = np.where(status == STATUS["checked_out"], np.maximum(out_at, in_at + SECOND), np.datetime64("NaT"))
    cancelled_at = (
        booked
        + (rng.random(n) * np.maximum((clock.as_of - booked).astype(np.int64), 1) * 0.5).astype(np.int64) * SECOND
    )
    no_show_at = clock.before_as_of(clock.local_instant(tenant, start, np.full(n, 20 * 3600)), rng)
    updated = np.select(
        [
            status == STATUS["checked_out"],
            status == STATUS["checked_in"],
            status == STATUS["cancelled"],
            status == STATUS["no_show"],
            status == STATUS["confirmed"],
        ],
        [out_at, in_at, cancelled_at, np.maximum(no_show_at, booked), booked + rng.integers(60, 86400, n) * SECOND],
        booked,
    )
    updated = np.maximum(clock.before_as_of(updated, rng), booked)
    deleted = (status == STATUS["cancelled"]) & (rng.random(n) < 0.1)
    has_note = rng.random(n) < 0.12
    notes = np.full(n, None, dtype=object)
    notes[has_note] = np.array(vocab.NOTES, dtype=object)[rng.integers(0, len(vocab.NOTES), has_note.sum())]
    service = tenant * SERVICES_PER_TENANT + suite
    tables = world.tables
    world.idx.update(reservation_service=service, reservation_resource=resource)
    tables["reservations"] = {
        "id": uuids(rng, n),
        "tenant_id": tables["tenants"]["id"][tenant],
        "customer_id": tables["customers"]["id"][customer],
        "pet_id": tables["pets"]["id"][pet],
        "resource_id": np.where(resource >= 0, tables["resources"]["id"][resource], b"\\N"),
        "service_id": tables["services"]["id"][service],
        "requested_suite_type": text(SUITE_CODES)[suite],
        "status": text(RESERVATION_STATUSES)[status],
        "start_date": start,
        "end_date": end,
        "checked_in_at": in_at,
        "checked_out_at": out_at,
        "total_cents": nights * world.idx["service_price"][service],
        "notes": notes,
        "created_at": booked,
        "updated_at": updated,
        "deleted_at": np.where(deleted, updated, np.datetime64("NaT")),
        "version": VERSION_BY_STATUS[status],
    }
    first_booked = np.full(len(idx["customer_tenant"]), np.datetime64("NaT"), "datetime64[s]")
    order = np.lexsort((booked, customer))
    firsts = order[np.r_[True, customer[order][1:] != customer[order][:-1]]]
    first_booked[customer[firsts]] = booked[firsts]
    settle_signups(world, first_booked)


def build_resources(world: World) -> None:
    """Suites sized to demand: per tenant and suite type, enough capacity for ~97 % of
    the busiest night's stays (so stays respect capacity except on the very peak nights),
    at least one suite of every type; ~2 % more are retired (inactive, soft-deleted) and
    never booked. Needs `draw_stays` first."""
    rng = rng_for(world.seed, "resources")
    clock, idx = world.clock, world.idx
    n_tenants = len(clock.timezones)
    n_pools = n_tenants * len(SUITE_CODES)
    occupies = idx["reservation_occupies"]
    pool = (idx["reservation_tenant"] * len(SUITE_CODES) + idx["reservation_suite"])[occupies]
    first = (idx["reservation_start"][occupies] - clock.history_start).astype(np.int64)
    last = first + idx["reservation_nights"][occupies]
    n_days = int(last.max(initial=0)) + 1
    change = np.bincount(pool * n_days + first, minlength=n_pools * n_days) - np.bincount(
        pool * n_days + last, minlength=n_pools * n_days
    )
    peak = np.cumsum(change.reshape(n_pools, n_days), axis=1).max(axis=1)
    needed = np.maximum(np.ceil(peak * 0.97), 1)

    choices = [np.array(suite[2]) for suite in vocab.SUITES.values()]
    pool_suite = np.arange(n_pools) % len(SUITE_CODES)
    mean_capacity = np.array([c.mean() for c in choices])[pool_suite]
    drawn = (np.ceil(needed / mean_capacity) + 2).astype(np.int64)  # a few spare draws, trimmed below
    resource_pool = np.repeat(np.arange(n_pools), drawn)
    suite = resource_pool % len(SUITE_CODES)
    capacity = np.empty(len(suite), np.int64)
    for code, options in enumerate(choices):
        rows = suite == code
        capacity[rows] = options[rng.integers(0, len(options), rows.sum())]
    running = np.cumsum(capacity) - capacity
    first_of_pool = np.searchsorted(resource_pool, resource_pool)
    keep = running - running[first_of_pool] < needed[resource_pool]  # capacity before this one falls short
    retired_extra = rng.random(len(suite)) < 0.02
    retired = ~keep & retired_extra & np.r_[True, resource_pool[1:] != resource_pool[:-1]]  # one per pool at most
    rows = keep | retired
    resource_pool, suite, capacity, retired = resource_pool[rows], suite[rows], capacity[rows], retired[rows]
    tenant = resource_pool // len(SUITE_CODES)
    n = len(tenant)
    position = np.arange(n) - np.searchsorted(tenant, tenant)
    prefixes = np.array([suite[0] for suite in vocab.SUITES.values()], dtype=object)
    names = [
        f"{prefixes[s]} {chr(65 + int(p) // 100 % 26)}{int(p) % 100 + 1}" for s, p in zip(suite, position, strict=True)
    ]
    created = idx["tenant_created"][tenant] + rng.integers(0, 30 * 86400, n) * SECOND
    updated = np.where(retired, clock.before_as_of(created + rng.integers(100, 1400, n) * DAY, rng), created)
    idx.update(resource_tenant=tenant, resource_suite=suite, resource_capacity=capacity, resource_live=~retired)
    world.tables["resources"] = {
        "id": uuids(rng, n),
        "tenant_id": world.tables["tenants"]["id"][tenant],
        "name": text(names),
        "suite_type": text(np.array(SUITE_CODES)[suite]),
        "capacity": capacity,
        "is_active": ~retired,
        "created_at": created,
        "updated_at": updated,
        "deleted_at": np.where(retired, updated, np.datetime64("NaT")),
    }


def build_services(world: World) -> None:
    """Per tenant, in this order: one stay service per suite type, the extras, and one
    retired (soft-deleted) service no invoice uses."""
    rng = rng_for(world.seed, "services")
    n_tenants = len(world.clock.timezones)
    catalogue = [
        (stay, "daycare" if code == "daycare" else "boarding", price)
        for code, (_, _, _, stay, price) in vocab.SUITES.items()
    ]
    catalogue += list(vocab.EXTRAS) + [("Legacy flea bath", "grooming", 2000)]
    tenant = np.repeat(np.arange(n_tenants), len(catalogue))
    n = len(tenant)
    price_factor = np.round(rng.uniform(0.8, 1.4, n_tenants), 2)[tenant]
    base = np.tile([price for _, _, price in catalogue], n_tenants)
    retired = np.tile(np.arange(len(catalogue)) == len(catalogue) - 1, n_tenants)
    created = world.idx["tenant_created"][tenant] + rng.integers(0, 5 * 86400, n) * SECOND
    updated = created + rng.integers(0, 900, n) * DAY
    world.idx["service_price"] = (np.round(base * price_factor / 50) * 50).astype(np.int64)
    world.tables["services"] = {
        "id": uuids(rng, n),
        "tenant_id": world.tables["tenants"]["id"][tenant],
        "name": text(np.tile([name for name, _, _ in catalogue], n_tenants)),
        "category": text(np.tile([category for _, category, _ in catalogue], n_tenants)),
        "price_cents": world.idx["service_price"],
        "created_at": created,
        "updated_at": updated,
        "deleted_at": np.where(retired, updated, np.datetime64("NaT")),
    }
