"""The walking challenge: teams, members, activities with routes, stats and achievements.

Stats are derived, not drawn: `derive_stats` recomputes customer_stats and team_progress
from the activities (after anomaly injection has moved rows around), so they agree with
the activities exactly, the way the app keeps them in the activity's transaction:
  customer_stats: per customer with activities, over the non-deleted ones:
      sum distance_m, sum duration_s, count, max activity_date;
  team_progress: per live team, sum distance_m of non-deleted activities with that
      team_id, and member_count = members with left_at null.
Deleted teams have no members, activities or progress; deleted customers walk nowhere.
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np

from pipelines.source import vocab
from pipelines.source.clock import DAY, SECOND, local_seconds
from pipelines.source.copytext import rng_for, uuids
from pipelines.source.world import World, pick_within, scaled, spread, text

MAX_WAYPOINTS = 5
SPECIES_DOG = tuple(vocab.SPECIES).index("dog")
NAT = np.datetime64("NaT")


class Routes:
    """The `route` jsonb column, formatted per chunk: [{"lat":..,"lng":..}, ...].

    Written compact (jsonb stores the parsed value, so separators make no difference in
    the database, only in bytes sent and parsed). Each row is laid out in uint32 slots
    gathered from lookup tables of coordinate text - ten per waypoint, zero where the
    route has fewer waypoints - and the NUL padding is dropped when rows are written.
    """

    def __init__(self, lat_e5: np.ndarray, lng_e5: np.ndarray, count: np.ndarray):
        self.lat_e5, self.lng_e5, self.count = lat_e5, lng_e5, count

    def __len__(self) -> int:
        return len(self.count)

    def __getitem__(self, rows) -> Routes:
        return Routes(self.lat_e5[rows], self.lng_e5[rows], self.count[rows])

    def cells(self) -> np.ndarray:
        n = len(self)
        shown = self.count[:, None] > np.arange(MAX_WAYPOINTS)
        degrees, fraction, closing = _coordinate_text()
        lat_degrees, lat_fraction = _coordinate_index(self.lat_e5, shown)
        lng_degrees, lng_fraction = _coordinate_index(self.lng_e5, shown)
        slots = np.empty((_SLOTS_PER_WAYPOINT * MAX_WAYPOINTS + 1, n), np.uint32)  # one row per slot: fast fills
        for k in range(MAX_WAYPOINTS):
            at, here = _SLOTS_PER_WAYPOINT * k, shown[:, k]
            slots[at : at + 2] = np.where(here, (_OPEN_FIRST if k == 0 else _OPEN_NEXT)[:, None], 0)
            slots[at + 2] = degrees[lat_degrees[:, k]]
            slots[at + 3 : at + 5] = fraction[lat_fraction[:, k]].view(np.uint32).reshape(n, 2).T
            slots[at + 5 : at + 7] = np.where(here, _LNG[:, None], 0)
            slots[at + 7] = degrees[lng_degrees[:, k]]
            slots[at + 8 : at + 10] = closing[lng_fraction[:, k]].view(np.uint32).reshape(n, 2).T
        slots[-1] = _CLOSE
        width = slots.shape[0] * slots.itemsize
        return np.ascontiguousarray(slots.T).view(np.uint8).reshape(n, width).view(f"S{width}").ravel()


def _text_slots(text: bytes) -> np.ndarray:
    return np.frombuffer(text.ljust(-(-len(text) // 4) * 4, b"\0"), np.uint32)


# per waypoint: '[{"lat":' or ',{"lat":' (2 slots), degrees, fraction (2), ',"lng":' (2), degrees, fraction + '}' (2)
_SLOTS_PER_WAYPOINT = 10
_OPEN_FIRST, _OPEN_NEXT, _LNG, _CLOSE = map(_text_slots, (b'[{"lat":', b',{"lat":', b',"lng":', b"]"))
_NO_DEGREES, _NO_FRACTION = 2000, 100_000  # the empty last rows of the lookup tables


@cache
def _coordinate_text() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinate text in slots: degrees "0".."999" then "-0".."-999" (one uint32 slot),
    fractions ".00000".."99999" and the same followed by '}' (two slots as one uint64);
    each table ends in an empty entry."""
    degrees = [f"{sign}{d}".encode() for sign in ("", "-") for d in range(1000)] + [b""]
    fraction = [f".{f:05d}".encode() for f in range(100_000)] + [b""]
    closing = [text + b"}" for text in fraction[:-1]] + [b""]
    return (
        np.concatenate([_text_slots(text.ljust(4, b"\0")) for text in degrees]),
        np.frombuffer(b"".join(text.ljust(8, b"\0") for text in fraction), np.uint64),
        np.frombuffer(b"".join(text.ljust(8, b"\0") for text in closing), np.uint64),
    )


def _coordinate_index(e5: np.ndarray, shown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the degree and fraction tables for coordinates scaled by 1e5 (empty where not shown)."""
    degrees, fraction = np.divmod(np.abs(e5), 100_000)
    if len(degrees) and degrees.max() > 999:
        raise ValueError("coordinates beyond 999 degrees")
    return np.where(shown, degrees + 1000 * (e5 < 0), _NO_DEGREES), np.where(shown, fraction, _NO_FRACTION)


def build_teams(world: World) -> None:
    rng = rng_for(world.seed, "teams")
    clock = world.clock
    n_tenants = len(clock.timezones)
    per_tenant = spread(rng, scaled(world.scale, 5_000), world.idx["tenant_weight"], minimum=3)
    tenant = np.repeat(np.arange(n_tenants), per_tenant)
    n = len(tenant)
    last_of_tenant = np.r_[tenant[1:] != tenant[:-1], True]
    deleted = last_of_tenant | (rng.random(n) < 0.03)  # every tenant has a deleted team
    span = (clock.today - clock.history_start).astype(np.int64) - 14
    starts = clock.history_start + rng.integers(0, span, n) * DAY
    ends = np.where(rng.random(n) < 0.4, starts + rng.integers(60, 366, n) * DAY, np.datetime64("NaT", "D"))
    created = clock.local_instant(tenant, starts - rng.integers(1, 21, n) * DAY, local_seconds(rng, n, 8, 22))
    updated = np.where(deleted, clock.before_as_of(created + rng.integers(20, 400, n) * DAY, rng), created)
    words = rng.integers(0, len(vocab.TEAM_WORDS), n)
    suffixes = rng.integers(0, len(vocab.TEAM_SUFFIXES), n)
    world.idx.update(team_tenant=tenant, team_deleted=deleted, team_created=created)
    world.tables["teams"] = {
        "id": uuids(rng, n),
        "tenant_id": world.tables["tenants"]["id"][tenant],
        "name": text(f"{vocab.TEAM_WORDS[w]} {vocab.TEAM_SUFFIXES[s]}" for w, s in zip(words, suffixes, strict=True)),
        "goal_distance_m": rng.choice((100_000, 250_000, 500_000, 1_000_000, 2_000_000), n),
        "starts_on": starts,
        "ends_on": ends,
        "created_at": created,
        "updated_at": updated,
        "deleted_at": np.where(deleted, updated, NAT),
    }


def build_team_members(world: World) -> None:
    rng = rng_for(world.seed, "team_members")
    clock, idx = world.clock, world.idx
    n_tenants = len(clock.timezones)
    live_teams = np.flatnonzero(~idx["team_deleted"])
    team = live_teams[rng.integers(0, len(live_teams), scaled(world.scale, 60_000))]
    tenant = idx["team_tenant"][team]
    live_customers = np.flatnonzero(~idx["customer_deleted"])
    customer = pick_within(rng, tenant, live_customers, idx["customer_tenant"], n_tenants)
    pairs = np.unique(np.stack([team, customer], axis=1), axis=0)  # one membership per team and customer
    team, customer = pairs[:, 0], pairs[:, 1]
    tenant = idx["team_tenant"][team]
    n = len(team)
    admin = np.r_[True, team[1:] != team[:-1]]
    joined = (
        np.maximum(idx["team_created"][team], idx["customer_created"][customer])
        + rng.integers(600, 60 * 86400, n) * SECOND
    )
    joined = clock.before_as_of(joined, rng)
    left = joined + rng.integers(30, 300, n) * DAY
    left = np.where((rng.random(n) < 0.1) & ~admin & (left < clock.as_of), left, NAT)
    idx.update(member_team=team, member_customer=customer, member_joined=joined, member_left=left)
    world.tables["team_members"] = {
        "id": uuids(rng, n),
        "tenant_id": world.tables["tenants"]["id"][tenant],
        "team_id": world.tables["teams"]["id"][team],
        "customer_id": world.tables["customers"]["id"][customer],
        "role": np.where(admin, b"admin", b"member"),
        "joined_at": joined,
        "left_at": left,
        "created_at": joined,
        "updated_at": np.fmax(joined, left),
    }


def build_activities(world: World) -> None:
    rng = rng_for(world.seed, "activities")
    clock, idx = world.clock, world.idx
    n_customers = len(idx["customer_tenant"])
    created_day = idx["customer_created"].astype("datetime64[D]")
    eligible = ~idx["customer_deleted"] & (created_day < clock.today - 3 * DAY)
    member = np.zeros(n_customers, bool)
    member[idx["member_customer"]] = True
    walkers = np.flatnonzero(eligible & (member | (rng.random(n_customers) < 0.25)))
    weight = rng.lognormal(0.0, 1.0, len(walkers))
    n = scaled(world.scale, 3_000_000)
    customer = walkers[rng.choice(len(walkers), n, p=weight / weight.sum())]
    customer.sort()
    tenant = idx["customer_tenant"][customer]
    low = np.maximum(created_day[customer] + DAY, clock.history_start)
    days = low + np.floor(rng.random(n) * (clock.today - low).astype(np.int64)).astype(np.int64) * DAY

    # a member walks for the team of their first membership while it lasts
    first_membership = np.full(n_customers, -1)
    first_membership[idx["member_customer"][::-1]] = np.arange(len(idx["member_customer"]))[::-1]
    membership = first_membership[customer]
    has = membership >= 0
    m = np.where(has, membership, 0)
    joined_day = idx["member_joined"][m].astype("datetime64[D]")
    left_day = idx["member_left"][m].astype("datetime64[D]")
    in_team = has & (days > joined_day) & (np.isnat(left_day) | (days < left_day)) & (rng.random(n) < 0.85)
    team = np.where(in_team, idx["member_team"][m], -1)

    first_pet = idx["customer_first_pet"][customer]
    walks_dog = (idx["pet_species"][first_pet] == SPECIES_DOG) & (rng.random(n) < 0.9)
    distance = np.clip(np.rint(rng.lognormal(np.log(3500), 0.5, n)), 300, 25_000).astype(np.int64)
    duration = np.rint(distance / rng.uniform(1.1, 1.7, n)).astype(np.int64)
    started = clock.local_instant(tenant, days, local_seconds(rng, n, 6, 21))
    created = clock.before_as_of(started + duration * SECOND, rng)
    deleted = rng.random(n) < 0.01
    deleted_at = np.where(deleted, clock.before_as_of(created + rng.integers(600, 30 * 86400, n) * SECOND, rng), NAT)
    deleted_at = np.where(deleted & (deleted_at <= created), created + SECOND, deleted_at)

    zone_coords = {zone: (lat, lng) for zone, lat, lng in vocab.TIMEZONES}
    home = np.array([zone_coords[zone] for zone in clock.timezones])[tenant]
    home = home + rng.normal(0, 0.03, (n, 2))
    steps = np.cumsum(rng.normal(0, 0.003, (n, MAX_WAYPOINTS, 2)), axis=1)
    points = np.rint((home[:, None, :] + steps) * 1e5).astype(np.int64)

    tables = world.tables
    idx.update(
        activity_customer=customer,
        activity_team=team,
        activity_deleted=deleted,
        activity_date=days,
        activity_distance=distance,
        activity_duration=duration,
        activity_created=created,
    )
    tables["activities"] = {
        "id": uuids(rng, n),
        "tenant_id": tables["tenants"]["id"][tenant],
        "customer_id": tables["customers"]["id"][customer],
        "team_id": np.where(team >= 0, tables["teams"]["id"][np.maximum(team, 0)], b"\\N"),
        "pet_id": np.where(walks_dog, tables["pets"]["id"][first_pet], b"\\N"),
        "activity_date": days,
        "distance_m": distance,
        "duration_s": duration,
        "route": Routes(points[:, :, 0], points[:, :, 1], rng.integers(2, MAX_WAYPOINTS + 1, n)),
        "created_at": created,
        "updated_at": np.fmax(created, deleted_at),
        "deleted_at": deleted_at,
    }


def build_achievements(world: World) -> None:
    rng = rng_for(world.seed, "achievements")
    n_tenants = len(world.clock.timezones)
    codes = tuple(vocab.ACHIEVEMENTS)
    tenant = np.repeat(np.arange(n_tenants), len(codes))
    created = world.idx["tenant_created"][tenant] + rng.integers(86400, 30 * 86400, len(tenant)) * SECOND
    criteria = [json.dumps({"metric": "total_distance_m", "at_least": vocab.ACHIEVEMENTS[code][1]}) for code in codes]
    world.tables["achievements"] = {
        "id": uuids(rng, len(tenant)),
        "tenant_id": world.tables["tenants"]["id"][tenant],
        "code": text(codes * n_tenants),
        "name": text([vocab.ACHIEVEMENTS[code][0] for code in codes] * n_tenants),
        "criteria": text(criteria * n_tenants),
        "created_at": created,
        "updated_at": created,
    }


def derive_stats(world: World) -> None:
    """customer_stats, team_progress and customer_achievements, consistent with activities."""
    rng = rng_for(world.seed, "stats")
    idx, tables = world.idx, world.tables
    n_customers = len(idx["customer_tenant"])
    customer = idx["activity_customer"]  # -1: an orphaned activity, which no stats row counts
    real = customer >= 0
    counted = real & ~idx["activity_deleted"]
    c = np.where(real, customer, 0)
    has_row = np.bincount(c[real], minlength=n_customers) > 0
    distance = np.bincount(c[counted], weights=idx["activity_distance"][counted], minlength=n_customers)
    duration = np.bincount(c[counted], weights=idx["activity_duration"][counted], minlength=n_customers)
    count = np.bincount(c[counted], minlength=n_customers)
    last_day = np.full(n_customers, np.datetime64("NaT"), "datetime64[D]")
    np.fmax.at(last_day, c[counted], idx["activity_date"][counted])
    touched = np.full(n_customers, np.datetime64("NaT"), "datetime64[s]")
    np.fmax.at(touched, c[real], tables["activities"]["updated_at"][real])
    first = np.full(n_customers, np.datetime64("NaT"), "datetime64[s]")
    np.fmin.at(first, c[real], idx["activity_created"][real])
    rows = np.flatnonzero(has_row)
    customers = tables["customers"]
    tables["customer_stats"] = {
        "customer_id": customers["id"][rows],
        "tenant_id": customers["tenant_id"][rows],
        "total_distance_m": distance[rows].astype(np.int64),
        "total_duration_s": duration[rows].astype(np.int64),
        "activity_count": count[rows],
        "last_activity_date": last_day[rows],
        "created_at": first[rows],
        "updated_at": touched[rows],
    }
    idx["stats_customer"] = rows

    n_teams = len(idx["team_tenant"])
    team = idx["activity_team"]
    on_team = (team >= 0) & ~idx["activity_deleted"]
    team_distance = np.bincount(team[on_team], weights=idx["activity_distance"][on_team], minlength=n_teams)
    active = np.isnat(idx["member_left"])
    members = np.bincount(idx["member_team"][active], minlength=n_teams)
    team_touched = idx["team_created"].copy()
    np.fmax.at(team_touched, team[team >= 0], tables["activities"]["updated_at"][team >= 0])
    np.fmax.at(team_touched, idx["member_team"], tables["team_members"]["updated_at"])
    live = np.flatnonzero(~idx["team_deleted"])
    teams = tables["teams"]
    tables["team_progress"] = {
        "team_id": teams["id"][live],
        "tenant_id": teams["tenant_id"][live],
        "total_distance_m": team_distance[live].astype(np.int64),
        "member_count": members[live],
        "created_at": idx["team_created"][live],
        "updated_at": team_touched[live],
    }
    idx["progress_team"] = live

    # achievements earned by total distance, awarded at the last activity that counted
    codes = tuple(vocab.ACHIEVEMENTS)
    thresholds = np.array([vocab.ACHIEVEMENTS[code][1] for code in codes])
    earned = distance[rows][:, None] >= thresholds[None, :]
    holder, code = np.nonzero(earned)
    customer_rows = rows[holder]
    tenant = idx["customer_tenant"][customer_rows]
    achievement = tenant * len(codes) + code
    awarded = tables["customer_stats"]["updated_at"][holder]
    tables["customer_achievements"] = {
        "id": uuids(rng, len(holder)),
        "tenant_id": customers["tenant_id"][customer_rows],
        "customer_id": customers["id"][customer_rows],
        "achievement_id": tables["achievements"]["id"][achievement],
        "awarded_at": awarded,
        "created_at": awarded,
        "updated_at": awarded,
    }
