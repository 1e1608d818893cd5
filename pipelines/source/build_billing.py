"""Invoices, lines, payments and refunds for the stays.

A checked-out stay is invoiced on its check-out day (a stay under way has a draft);
lines are the stay plus 0-2 extras; total = subtotal + tax. Payments: most in full on
the day or some days later, some in two parts, some after a failed attempt; an invoice
is `paid` exactly when its succeeded payments sum to its total, else `open` (2 % are
void, unpaid). Nothing is paid twice over, no amount is negative, refunds (~3 % of
succeeded payments) never exceed their payment: those would be anomalies, and anomalies
enter only through the injector.
"""

from __future__ import annotations

import numpy as np

from pipelines.source import vocab
from pipelines.source.build_boarding import EXTRA_OFFSET, SERVICES_PER_TENANT, STATUS
from pipelines.source.clock import DAY, SECOND, local_seconds
from pipelines.source.copytext import rng_for, uuids
from pipelines.source.schema import INVOICE_STATUSES, PAYMENT_METHODS, PAYMENT_STATUSES
from pipelines.source.world import World, text

INVOICE = {name: code for code, name in enumerate(INVOICE_STATUSES)}
PAYMENT = {name: code for code, name in enumerate(PAYMENT_STATUSES)}
CURRENCY = {
    "Europe/Berlin": "EUR",
    "Europe/Madrid": "EUR",
    "Europe/London": "GBP",
    "Australia/Sydney": "AUD",
    "Australia/Perth": "AUD",
    "Pacific/Auckland": "NZD",
    "Asia/Tokyo": "JPY",
    "America/Sao_Paulo": "BRL",
    "America/Toronto": "CAD",
}
TAX_RATES = (0.0, 0.05, 0.0725, 0.08875, 0.19)


def _payment_instants(world: World, rng: np.random.Generator, tenant: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Local business hours, plus ~4 % paid online just after local midnight."""
    n = len(day)
    seconds = np.where(rng.random(n) < 0.04, local_seconds(rng, n, 0, 1), local_seconds(rng, n, 8, 22))
    return world.clock.before_as_of(world.clock.local_instant(tenant, day, seconds), rng)


def build_invoices(world: World) -> None:
    rng = rng_for(world.seed, "invoices")
    tables, idx, clock = world.tables, world.idx, world.clock
    reservations = tables["reservations"]
    status = idx["reservation_status"]
    source = np.flatnonzero(np.isin(status, (STATUS["checked_out"], STATUS["checked_in"])))
    n = len(source)
    tenant = idx["reservation_tenant"][source]
    draft = status[source] == STATUS["checked_in"]
    issued = np.where(draft, np.datetime64("NaT"), reservations["end_date"][source])
    created = np.where(draft, reservations["checked_in_at"][source], reservations["checked_out_at"][source])

    extras = rng.choice((0, 1, 2), n, p=(0.2, 0.45, 0.35))
    line_invoice = np.repeat(np.arange(n), 1 + extras)
    is_stay = np.r_[True, line_invoice[1:] != line_invoice[:-1]]
    extra_service = (
        tenant[line_invoice] * SERVICES_PER_TENANT
        + EXTRA_OFFSET
        + rng.integers(0, len(vocab.EXTRAS), len(line_invoice))
    )
    service = np.where(is_stay, idx["reservation_service"][source][line_invoice], extra_service)
    quantity = np.where(is_stay, idx["reservation_nights"][source][line_invoice], 1)
    unit = idx["service_price"][service]
    amount = quantity * unit
    subtotal = np.bincount(line_invoice, weights=amount, minlength=n).astype(np.int64)
    tax_rate = np.array(TAX_RATES)[rng.integers(0, len(TAX_RATES), len(clock.timezones))][tenant]
    tax = np.rint(subtotal * tax_rate).astype(np.int64)
    total = subtotal + tax
    void = ~draft & (rng.random(n) < 0.02)

    payments = _payments(world, rng, tenant, issued, total, payable=~draft & ~void)
    paid_sum = np.bincount(payments["invoice"], weights=payments["succeeded_cents"], minlength=n).astype(np.int64)
    last_paid = np.full(n, np.datetime64("NaT"), "datetime64[s]")
    np.fmax.at(last_paid, payments["invoice"], payments["paid_at"])
    invoice_status = np.select(
        [draft, void, paid_sum == total], [INVOICE["draft"], INVOICE["void"], INVOICE["paid"]], INVOICE["open"]
    )
    updated = np.fmax(created, last_paid)
    number = np.empty(n, np.int64)
    order = np.lexsort((created, tenant))
    first_of_tenant = np.searchsorted(tenant[order], tenant[order])
    number[order] = np.arange(n) - first_of_tenant + 1
    ids = uuids(rng, n)
    tenant_ids = tables["tenants"]["id"][tenant]
    currency = text(CURRENCY.get(zone, "USD") for zone in clock.timezones)[tenant]
    idx.update(invoice_tenant=tenant, invoice_reservation=source, invoice_total=total, invoice_status=invoice_status)
    tables["invoices"] = {
        "id": ids,
        "tenant_id": tenant_ids,
        "customer_id": reservations["customer_id"][source],
        "reservation_id": reservations["id"][source],
        "number": np.strings.add(b"INV-", number.astype("S")),
        "status": text(INVOICE_STATUSES)[invoice_status],
        "issued_on": issued,
        "due_on": issued + 14 * DAY,
        "subtotal_cents": subtotal,
        "tax_cents": tax,
        "total_cents": total,
        "currency": currency,
        "created_at": created,
        "updated_at": updated,
        "deleted_at": np.full(n, np.datetime64("NaT"), "datetime64[s]"),
    }
    tables["invoice_lines"] = {
        "id": uuids(rng, len(line_invoice)),
        "tenant_id": tenant_ids[line_invoice],
        "invoice_id": ids[line_invoice],
        "service_id": tables["services"]["id"][service],
        "description": tables["services"]["name"][service],
        "quantity": quantity,
        "unit_price_cents": unit,
        "amount_cents": amount,
        "created_at": created[line_invoice],
        "updated_at": created[line_invoice],
    }
    _load_payments(world, rng, payments, ids, tenant_ids)


def _payments(
    world: World,
    rng: np.random.Generator,
    tenant: np.ndarray,
    issued: np.ndarray,
    total: np.ndarray,
    payable: np.ndarray,
) -> dict[str, np.ndarray]:
    """Payment rows (as arrays keyed by invoice row) that happened before the reference date."""
    n = len(total)
    today = world.clock.today
    delay = np.where(rng.random(n) < 0.55, 0, np.minimum(rng.geometric(1 / 8, n), 60))
    pay_day = issued + delay * DAY
    pattern = rng.random(n)
    partial, failed_first = pattern < 0.08, (pattern >= 0.08) & (pattern < 0.11)
    first_part = np.where(partial, np.rint(total * rng.uniform(0.3, 0.7, n)).astype(np.int64), total)
    second_day = pay_day + np.where(partial, rng.integers(7, 31, n), rng.integers(0, 3, n)) * DAY
    rows = {
        # (invoice rows, amount, status, day)
        "failed": (failed_first, total, PAYMENT["failed"], pay_day),
        "first": (~failed_first, first_part, PAYMENT["succeeded"], pay_day),
        "second": (
            partial | failed_first,
            np.where(partial, total - first_part, total),
            PAYMENT["succeeded"],
            second_day,
        ),
    }
    parts = []
    for mask, amount, status, day in rows.values():
        keep = np.flatnonzero(mask & payable & (day < today))
        parts.append((keep, amount[keep], np.full(len(keep), status), day[keep]))
    invoice = np.concatenate([p[0] for p in parts])
    amount = np.concatenate([p[1] for p in parts])
    status = np.concatenate([p[2] for p in parts])
    paid_at = _payment_instants(world, rng, tenant[invoice], np.concatenate([p[3] for p in parts]))
    return {
        "invoice": invoice,
        "amount": amount,
        "status": status,
        "paid_at": paid_at,
        "succeeded_cents": np.where(status == PAYMENT["succeeded"], amount, 0),
    }


def _load_payments(
    world: World,
    rng: np.random.Generator,
    payments: dict[str, np.ndarray],
    invoice_ids: np.ndarray,
    tenant_ids: np.ndarray,
) -> None:
    n = len(payments["invoice"])
    order = np.lexsort((payments["paid_at"], payments["invoice"]))  # an invoice's attempts in time order
    payments = {key: value[order] for key, value in payments.items()}
    # a failed attempt and its retry may land at the same local moment; keep the retry after it
    retry = np.r_[False, payments["invoice"][1:] == payments["invoice"][:-1]]
    paid_at = payments["paid_at"].copy()
    for _ in range(2):
        previous = np.r_[paid_at[:1], paid_at[:-1]]
        paid_at = np.where(retry & (paid_at <= previous), previous + 60 * SECOND, paid_at)
    ids = uuids(rng, n)
    method = rng.choice(len(PAYMENT_METHODS), n, p=(0.7, 0.1, 0.12, 0.08))
    world.idx.update(payment_invoice=payments["invoice"], payment_status=payments["status"])
    world.tables["payments"] = {
        "id": ids,
        "tenant_id": tenant_ids[payments["invoice"]],
        "invoice_id": invoice_ids[payments["invoice"]],
        "amount_cents": payments["amount"],
        "method": text(PAYMENT_METHODS)[method],
        "status": text(PAYMENT_STATUSES)[payments["status"]],
        "paid_at": paid_at,
        "created_at": paid_at,
        "updated_at": paid_at,
    }
    refunded = np.flatnonzero((payments["status"] == PAYMENT["succeeded"]) & (rng.random(n) < 0.03))
    refunded_at = paid_at[refunded] + rng.integers(86400, 20 * 86400, len(refunded)) * SECOND
    refunded = refunded[refunded_at < world.clock.as_of]
    refunded_at = refunded_at[refunded_at < world.clock.as_of]
    amount = payments["amount"][refunded]
    refund_amount = np.where(
        rng.random(len(refunded)) < 0.5, amount, np.maximum(1, np.rint(amount * rng.uniform(0.1, 0.9, len(refunded))))
    ).astype(np.int64)
    world.idx["refund_payment"] = refunded
    world.tables["refunds"] = {
        "id": uuids(rng, len(refunded)),
        "tenant_id": tenant_ids[payments["invoice"][refunded]],
        "payment_id": ids[refunded],
        "amount_cents": refund_amount,
        "reason": text(vocab.REFUND_REASONS)[rng.integers(0, len(vocab.REFUND_REASONS), len(refunded))],
        "refunded_at": refunded_at,
        "created_at": refunded_at,
        "updated_at": refunded_at,
    }
