"""Anomaly injection: the bad rows the warehouse must catch, each recorded in the manifest.

Every kind picks its rows among ones no other kind has touched, changes exactly what the
kind says, and records one manifest entry per row {table, key, tenant_id, anomaly,
details}. The generator makes none of these by accident (see the builders), so the
manifest is exact: what it lists is there, and nothing else of its kinds is.

Counts: a kind's rate is a share of its table's rows; any rate above zero injects at
least one row (small test databases still get every kind), zero injects none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np

from pipelines.source import vocab
from pipelines.source.build_billing import INVOICE, PAYMENT
from pipelines.source.build_boarding import STATUS, SUITE_CODES
from pipelines.source.copytext import rng_for, uuids
from pipelines.source.world import World, pick_within

DAY = np.timedelta64(1, "D")
LONG_NOTE_CHARS = 100_000
LONG_NOTE = 'Long note \\ "quoted" \u202e \U0001f43e '


@dataclass(frozen=True)
class AnomalyRates:
    """Share of the affected table's rows per anomaly kind (the field name is the kind)."""

    orphan_pet_customer: float = 0.001
    orphan_reservation_pet: float = 0.0002
    orphan_activity_customer: float = 0.0001
    orphan_team_member_team: float = 0.001
    cross_tenant_reservation_pet: float = 0.0001
    cross_tenant_reservation_customer: float = 0.0001
    cross_tenant_reservation_resource: float = 0.0001
    drifted_customer_stats: float = 0.005
    drifted_team_progress: float = 0.01
    suite_type_label_variant: float = 0.01
    odd_text: float = 0.0001
    end_before_start: float = 0.0001
    negative_amount: float = 0.0001
    overpayment: float = 0.0003

    @classmethod
    def kinds(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def uniform(cls, rate: float) -> AnomalyRates:
        """Every kind at the same rate (0 switches injection off)."""
        return cls(**dict.fromkeys(cls.kinds(), rate))

    def with_rates(self, **rates: float) -> AnomalyRates:
        return replace(self, **rates)


Entry = dict


class _Injector:
    def __init__(self, world: World, rates: AnomalyRates):
        self.world, self.rates = world, rates
        self.rng = rng_for(world.seed, "anomalies")
        self.taken: dict[str, np.ndarray] = {}
        self.entries: list[Entry] = []

    def count(self, kind: str, table: str) -> int:
        rate = getattr(self.rates, kind)
        return 0 if rate <= 0 else max(1, round(rate * self.world.rows(table)))

    def choose(self, kind: str, table: str, eligible: np.ndarray, count: int | None = None) -> np.ndarray:
        """Rows of `table` for `kind`: eligible, untouched by other kinds; marked as taken."""
        taken = self.taken.setdefault(table, np.zeros(self.world.rows(table), bool))
        candidates = np.flatnonzero(eligible & ~taken)
        wanted = self.count(kind, table) if count is None else count
        rows = np.sort(self.rng.choice(candidates, min(wanted, len(candidates)), replace=False))
        taken[rows] = True
        return rows

    def record(self, kind: str, table: str, rows: np.ndarray, details: Callable[[int], dict]) -> None:
        frame = self.world.tables[table]
        key = {"customer_stats": "customer_id", "team_progress": "team_id"}.get(table, "id")
        for row in rows.tolist():
            self.entries.append(
                {
                    "table": table,
                    "key": frame[key][row].decode(),
                    "tenant_id": frame["tenant_id"][row].decode(),
                    "anomaly": kind,
                    "details": details(row),
                }
            )


def _future_bookings(world: World) -> np.ndarray:
    status = world.idx["reservation_status"]
    live = np.isnat(world.tables["reservations"]["deleted_at"])
    return live & np.isin(status, (STATUS["pending"], STATUS["confirmed"]))


def _other_tenant(rng: np.random.Generator, tenant: np.ndarray, n_tenants: int) -> np.ndarray:
    return (tenant + 1 + rng.integers(0, n_tenants - 1, len(tenant))) % n_tenants


def inject_rows(world: World, rates: AnomalyRates) -> _Injector:
    """Orphans, cross-tenant references, label variants, odd text, bad dates and amounts
    (before stats are derived, so stats stay consistent with the moved activities)."""
    inj = _Injector(world, rates)
    t, idx, rng = world.tables, world.idx, inj.rng
    n_tenants = len(world.clock.timezones)
    pets, reservations = t["pets"], t["reservations"]

    rows = inj.choose("orphan_pet_customer", "pets", idx["customer_deleted"][idx["pet_owner"]])
    inj.record(
        "orphan_pet_customer",
        "pets",
        rows,
        lambda r: {"customer_id": pets["customer_id"][r].decode(), "reason": "live pet of a soft-deleted customer"},
    )
    pets["deleted_at"][rows] = np.datetime64("NaT")
    pets["is_active"][rows] = True

    rows = inj.choose("orphan_reservation_pet", "reservations", _future_bookings(world))
    reservations["pet_id"][rows] = uuids(rng, len(rows))
    idx["reservation_pet"][rows] = -1
    inj.record(
        "orphan_reservation_pet",
        "reservations",
        rows,
        lambda r: {"pet_id": reservations["pet_id"][r].decode(), "reason": "pet exists nowhere"},
    )

    activities = t["activities"]
    rows = inj.choose("orphan_activity_customer", "activities", ~idx["activity_deleted"] & (idx["activity_team"] < 0))
    activities["customer_id"][rows] = uuids(rng, len(rows))
    activities["pet_id"][rows] = b"\\N"
    idx["activity_customer"][rows] = -1
    inj.record(
        "orphan_activity_customer",
        "activities",
        rows,
        lambda r: {"customer_id": activities["customer_id"][r].decode(), "reason": "customer exists nowhere"},
    )

    members, teams = t["team_members"], t["teams"]
    deleted_teams = np.flatnonzero(idx["team_deleted"])
    member_tenant = idx["team_tenant"][idx["member_team"]]
    has_deleted_team = np.isin(member_tenant, idx["team_tenant"][deleted_teams])
    rows = inj.choose("orphan_team_member_team", "team_members", has_deleted_team)
    target = pick_within(rng, member_tenant[rows], deleted_teams, idx["team_tenant"], n_tenants)
    idx["member_team"][rows] = target
    members["team_id"][rows] = teams["id"][target]
    inj.record(
        "orphan_team_member_team",
        "team_members",
        rows,
        lambda r: {"team_id": members["team_id"][r].decode(), "reason": "member of a soft-deleted team"},
    )

    tenant = idx["reservation_tenant"]
    for kind, column, parent, parent_tenant, live in (
        (
            "cross_tenant_reservation_pet",
            "pet_id",
            "pets",
            idx["customer_tenant"][idx["pet_owner"]],
            ~idx["customer_deleted"][idx["pet_owner"]],
        ),
        (
            "cross_tenant_reservation_customer",
            "customer_id",
            "customers",
            idx["customer_tenant"],
            ~idx["customer_deleted"],
        ),
    ):
        rows = inj.choose(kind, "reservations", _future_bookings(world))
        other = pick_within(
            rng, _other_tenant(rng, tenant[rows], n_tenants), np.flatnonzero(live), parent_tenant, n_tenants
        )
        reservations[column][rows] = t[parent]["id"][other]
        inj.record(
            kind,
            "reservations",
            rows,
            lambda r, column=column, parent=parent: {
                column: reservations[column][r].decode(),
                "reason": f"{parent[:-1]} of another tenant",
            },
        )

    rows = inj.choose(
        "cross_tenant_reservation_resource",
        "reservations",
        _future_bookings(world) & (idx["reservation_resource"] >= 0),
    )
    pool = _other_tenant(rng, tenant[rows], n_tenants) * len(SUITE_CODES) + idx["reservation_suite"][rows]
    resource_pool = idx["resource_tenant"] * len(SUITE_CODES) + idx["resource_suite"]
    other = pick_within(rng, pool, np.flatnonzero(idx["resource_live"]), resource_pool, n_tenants * len(SUITE_CODES))
    reservations["resource_id"][rows] = t["resources"]["id"][other]
    idx["reservation_resource"][rows] = other
    inj.record(
        "cross_tenant_reservation_resource",
        "reservations",
        rows,
        lambda r: {"resource_id": reservations["resource_id"][r].decode(), "reason": "resource of another tenant"},
    )

    rows = inj.choose("end_before_start", "reservations", _future_bookings(world))
    reservations["end_date"][rows] = reservations["start_date"][rows] - rng.integers(1, 6, len(rows)) * DAY
    inj.record(
        "end_before_start",
        "reservations",
        rows,
        lambda r: {"start_date": str(reservations["start_date"][r]), "end_date": str(reservations["end_date"][r])},
    )

    rows = inj.choose("suite_type_label_variant", "reservations", np.ones(len(tenant), bool))
    suite = idx["reservation_suite"][rows]
    variant = rng.integers(0, 4, len(rows))
    labels = [vocab.SUITE_LABEL_VARIANTS[SUITE_CODES[s]][v] for s, v in zip(suite, variant, strict=True)]
    reservations["requested_suite_type"] = reservations["requested_suite_type"].astype(
        f"S{max(reservations['requested_suite_type'].dtype.itemsize, *(len(label) for label in labels), 1)}"
    )
    reservations["requested_suite_type"][rows] = [label.encode() for label in labels]
    inj.record(
        "suite_type_label_variant",
        "reservations",
        rows,
        lambda r: {
            "label": reservations["requested_suite_type"][r].decode(),
            "suite_type": SUITE_CODES[idx["reservation_suite"][r]],
        },
    )

    _inject_odd_text(inj)
    _inject_amounts(inj)
    return inj


def _inject_odd_text(inj: _Injector) -> None:
    """Half in reservation notes (the first one 100 kB long), half in customer names."""
    t, rng = inj.world.tables, inj.rng
    total = inj.count("odd_text", "reservations")
    notes = t["reservations"]["notes"]
    rows = inj.choose("odd_text", "reservations", np.ones(len(notes), bool), count=(total + 1) // 2)
    for k, row in enumerate(rows.tolist()):
        notes[row] = _odd(rng) if k else (LONG_NOTE * (LONG_NOTE_CHARS // len(LONG_NOTE) + 1))[:LONG_NOTE_CHARS]
    inj.record(
        "odd_text", "reservations", rows, lambda r: {"column": "notes", "chars": len(notes[r]), "sample": notes[r][:40]}
    )

    customers = t["customers"]
    rows = inj.choose("odd_text", "customers", ~inj.world.idx["customer_deleted"], count=total // 2)
    column_of = {row: ("first_name", "last_name")[rng.integers(0, 2)] for row in rows.tolist()}
    for row, column in column_of.items():
        customers[column][row] = _odd(rng)
    inj.record("odd_text", "customers", rows, lambda r: {"column": column_of[r], "sample": customers[column_of[r]][r]})


def _odd(rng: np.random.Generator) -> str:
    return vocab.ODD_TEXT[rng.integers(0, len(vocab.ODD_TEXT))]


def _inject_amounts(inj: _Injector) -> None:
    t, idx, rng = inj.world.tables, inj.world.idx, inj.rng
    payments = t["payments"]
    n_invoices = inj.world.rows("invoices")
    succeeded = idx["payment_status"] == PAYMENT["succeeded"]
    refunded = np.zeros(len(succeeded), bool)
    refunded[idx["refund_payment"]] = True
    invoice = idx["payment_invoice"]
    succeeded_per_invoice = np.bincount(invoice[succeeded], minlength=n_invoices)
    invoice_taken = np.zeros(n_invoices, bool)

    rows = inj.choose("negative_amount", "payments", succeeded & ~refunded)
    rows = rows[~_first_duplicates(invoice[rows])]
    invoice_taken[invoice[rows]] = True
    payments["amount_cents"][rows] = -payments["amount_cents"][rows]
    inj.record(
        "negative_amount",
        "payments",
        rows,
        lambda r: {"invoice_id": payments["invoice_id"][r].decode(), "amount_cents": int(payments["amount_cents"][r])},
    )

    sole_payment_of_paid = (idx["invoice_status"][invoice] == INVOICE["paid"]) & (succeeded_per_invoice[invoice] == 1)
    rows = inj.choose("overpayment", "payments", succeeded & ~refunded & sole_payment_of_paid & ~invoice_taken[invoice])
    payments["amount_cents"][rows] += rng.integers(100, 5000, len(rows))
    inj.record(
        "overpayment",
        "payments",
        rows,
        lambda r: {
            "invoice_id": payments["invoice_id"][r].decode(),
            "invoice_total_cents": int(idx["invoice_total"][invoice[r]]),
            "paid_cents": int(payments["amount_cents"][r]),
        },
    )


def _first_duplicates(values: np.ndarray) -> np.ndarray:
    """True for the second and later occurrence of a value."""
    _, first = np.unique(values, return_index=True)
    repeated = np.ones(len(values), bool)
    repeated[first] = False
    return repeated


def inject_stats(inj: _Injector) -> None:
    """Drift stored customer_stats / team_progress away from their activities."""
    t, rng = inj.world.tables, inj.rng
    for kind, table in (("drifted_customer_stats", "customer_stats"), ("drifted_team_progress", "team_progress")):
        frame = t[table]
        rows = inj.choose(kind, table, np.ones(inj.world.rows(table), bool))
        recomputed = frame["total_distance_m"][rows].copy()
        drift = rng.integers(100, 5000, len(rows)) * np.where(
            (recomputed > 5000) & (rng.random(len(rows)) < 0.5), -1, 1
        )
        frame["total_distance_m"][rows] = recomputed + drift
        by_row = dict(zip(rows.tolist(), zip(recomputed.tolist(), drift.tolist(), strict=True), strict=True))
        inj.record(
            kind,
            table,
            rows,
            lambda r, by_row=by_row, frame=frame: {
                "stored_distance_m": int(frame["total_distance_m"][r]),
                "recomputed_distance_m": by_row[r][0],
                "drift_m": by_row[r][1],
            },
        )
