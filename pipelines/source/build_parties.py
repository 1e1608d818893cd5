"""Tenants, customers and pets: who the stays are about."""

from __future__ import annotations

import numpy as np

from pipelines.source import vocab
from pipelines.source.clock import DAY, SECOND
from pipelines.source.copytext import rng_for, uuids
from pipelines.source.world import World, scaled, spread, text

DELETED_CUSTOMER_SHARE = 0.02  # closed accounts: never booked, pets deleted with them


def build_tenants(world: World) -> None:
    rng = rng_for(world.seed, "tenants")
    n = len(world.clock.timezones)
    clock = world.clock
    town = rng.integers(0, len(vocab.TOWN_WORDS), n)
    kind = rng.integers(0, len(vocab.BUSINESS_WORDS), n)
    names = [f"{vocab.TOWN_WORDS[t]} {vocab.BUSINESS_WORDS[k]}" for t, k in zip(town, kind, strict=True)]
    created = (clock.history_start - rng.integers(30, 400, n) * DAY).astype("datetime64[s]")
    created += rng.integers(9 * 3600, 17 * 3600, n) * SECOND
    world.idx["tenant_weight"] = rng.lognormal(0.0, 0.5, n)
    world.idx["tenant_created"] = created
    world.tables["tenants"] = {
        # ascending, so the tables built tenant by tenant lie in tenant_id order: their
        # tenant-led indexes (almost all of them) then build from presorted input
        "id": np.sort(uuids(rng, n)),
        "slug": text(f"{name.lower().replace(' ', '-')}-{i + 1}" for i, name in enumerate(names)),
        "name": text(names),
        "timezone": text(clock.timezones),
        "plan": text(rng.choice(vocab.PLANS, n, p=vocab.PLAN_WEIGHTS)),
        "created_at": created,
        "updated_at": created + rng.integers(1, 300, n) * DAY,
        "deleted_at": np.full(n, np.datetime64("NaT"), "datetime64[s]"),
    }


def build_customers(world: World) -> None:
    rng = rng_for(world.seed, "customers")
    clock = world.clock
    n_tenants = len(clock.timezones)
    per_tenant = spread(rng, scaled(world.scale, 100_000), world.idx["tenant_weight"], minimum=20)
    tenant = np.repeat(np.arange(n_tenants), per_tenant)
    n = len(tenant)
    span = (clock.as_of - world.idx["tenant_created"][tenant]).astype(np.int64)
    created = world.idx["tenant_created"][tenant] + (rng.random(n) ** 0.8 * span * 0.98).astype(np.int64) * SECOND
    first = rng.integers(0, len(vocab.FIRST_NAMES), n)
    last = rng.integers(0, len(vocab.LAST_NAMES), n)
    domain = rng.integers(0, len(vocab.EMAIL_DOMAINS), n)
    emails = [
        f"{vocab.FIRST_NAMES[f].lower()}.{vocab.LAST_NAMES[la].lower()}{i}@{vocab.EMAIL_DOMAINS[d]}"
        for i, (f, la, d) in enumerate(zip(first, last, domain, strict=True))
    ]
    phone = rng.integers(2_000_000, 9_999_999, n)
    world.idx["customer_tenant"] = tenant
    world.idx["customer_deleted"] = rng.random(n) < DELETED_CUSTOMER_SHARE
    world.idx["customer_created"] = created  # provisional: settle_signups moves it before the first booking
    world.tables["customers"] = {
        "id": uuids(rng, n),
        "tenant_id": world.tables["tenants"]["id"][tenant],
        "first_name": np.array([vocab.FIRST_NAMES[i] for i in first], dtype=object),
        "last_name": np.array([vocab.LAST_NAMES[i] for i in last], dtype=object),
        "email": np.where(rng.random(n) < 0.97, text(emails), b"\\N"),
        "phone": np.array([f"+1-555-{p // 10_000:03d}-{p % 10_000:04d}".encode() for p in phone]),
    }


def build_pets(world: World) -> None:
    rng = rng_for(world.seed, "pets")
    clock = world.clock
    n_customers = len(world.idx["customer_tenant"])
    per_customer = rng.choice((1, 2, 3), n_customers, p=(0.6, 0.3, 0.1))
    owner = np.repeat(np.arange(n_customers), per_customer)
    n = len(owner)
    species_names = tuple(vocab.SPECIES)
    species = rng.choice(len(species_names), n, p=[share for share, _ in vocab.SPECIES.values()])
    breeds = np.empty(n, dtype=object)
    for code, name in enumerate(species_names):
        rows = species == code
        options = vocab.SPECIES[name][1]
        breeds[rows] = np.array(options, dtype=object)[rng.integers(0, len(options), rows.sum())]
    customers = world.tables["customers"]
    world.idx["pet_owner"] = owner
    world.idx["pet_species"] = species
    world.idx["customer_first_pet"] = np.concatenate(([0], np.cumsum(per_customer)[:-1]))
    world.idx["customer_pet_count"] = per_customer
    world.tables["pets"] = {
        "id": uuids(rng, n),
        "tenant_id": customers["tenant_id"][owner],
        "customer_id": customers["id"][owner],
        "name": text(np.array(vocab.PET_NAMES)[rng.integers(0, len(vocab.PET_NAMES), n)]),
        "species": text(np.array(species_names)[species]),
        "breed": text(breeds),
        "birth_date": clock.today - rng.integers(120, 16 * 365, n) * DAY,
        "is_active": ~world.idx["customer_deleted"][owner],
    }


def settle_signups(world: World, first_booked: np.ndarray) -> None:
    """Customer and pet timestamps, once bookings are known: a customer signs up (and
    registers the pets) before the first booking; a deleted customer's pets are deleted
    in the same moment as the customer."""
    rng = rng_for(world.seed, "signups")
    clock = world.clock
    tenant_created = world.idx["tenant_created"][world.idx["customer_tenant"]]
    before_booking = first_booked - rng.integers(3600, 30 * 86400, len(first_booked)) * SECOND
    created = np.where(
        np.isnat(first_booked), world.idx["customer_created"], np.minimum(world.idx["customer_created"], before_booking)
    )
    created = np.maximum(created, tenant_created + 60 * SECOND)
    n = len(created)
    deleted = world.idx["customer_deleted"]
    updated = np.where(rng.random(n) < 0.3, clock.before_as_of(created + rng.integers(1, 400, n) * DAY, rng), created)
    updated = np.maximum(updated, created)
    world.idx["customer_created"] = created
    world.tables["customers"].update(
        {
            "created_at": created,
            "updated_at": updated,
            "deleted_at": np.where(deleted, updated, np.datetime64("NaT")),
            "version": 1 + (updated > created) + (deleted & (updated > created)),
        }
    )
    owner = world.idx["pet_owner"]
    pet_created = created[owner] + rng.integers(0, 600, len(owner)) * SECOND
    pet_deleted = deleted[owner]
    pet_updated = np.where(pet_deleted, np.maximum(updated[owner], pet_created), pet_created)
    world.tables["pets"].update(
        {
            "created_at": pet_created,
            "updated_at": pet_updated,
            "deleted_at": np.where(pet_deleted, pet_updated, np.datetime64("NaT")),
        }
    )
