"""The seeded world: places and sources with the ORM, then customers and orders streamed to COPY."""

from __future__ import annotations

import itertools
import random
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from integrations.demo import SANDBOX_SOURCES
from integrations.models import Source
from integrations.sandbox import catalog
from integrations.sandbox.draws import Draws, choose
from integrations.sandbox.generate import MIX
from integrations.services import source_upsert
from orders.catalogue.identity import normalise_email
from orders.models import (
    Store,
    StoreAlias,
)

from .common import (
    AREA_CODES,
    BENCH_URL,
    CANCEL_RATE,
    CARDS,
    CHUNK,
    DAY,
    EXTRA_PLACES,
    FIRST_NAMES,
    HOUR,
    LAST_NAMES,
    MINUTE,
    RETURN_RATE,
    SPAN,
    TABLES,
    WORST_SCANS,
    _fold,
    _national,
    _stem,
    _ts,
)
from .copier import _Copier
from .rows import _O, _OrderRows


class _World(Draws, _OrderRows):
    """The seeded generator: sets up places and sources with the ORM, then streams customers and orders to COPY."""

    def __init__(self, *, orders: int, customers: int, seed: int, now: int):
        self.n_orders, self.n_customers, self.now = orders, customers, now
        self.rng = random.Random(seed)  # noqa: S311 (bench data, not secrets)
        self.random = self.rng.random
        self.now_ts = _ts(now)
        self.start = now - SPAN
        # ids handed out here, from 1: generate() has just emptied the tables (see _sequences_advance)
        self.id = {table: itertools.count(1).__next__ for table in TABLES}
        self.products = _catalogue()
        self.small = [p for p in self.products if not p[3]]
        self.big = [p for p in self.products if p[3]]
        self.receipts: set[str] = set()
        self.tracking: set[str] = set()
        self.web = self.so = 0
        # the whale: one customer with ~200 orders (every stride-th order), one of them the worst-case screen
        self.whale_orders = min(200, max(1, orders // 20))
        self.stride = orders // self.whale_orders
        self.worst_index = self.stride * (self.whale_orders // 2)

    def digest(self) -> str:
        """A content hash's shape (the sync stores the SHA-256 of each record), so rows are the real width."""
        return f"{self.rng.getrandbits(256):064x}"

    # --- setup with the ORM: a handful of rows ---------------------------------------------------------------------
    def setup(self) -> None:
        """Sources (as the demo registers them) and stores with each system's id for them."""
        self.sources = _sources_ensure(self.now)
        self.S, self.Q, self.O, self.H, self.E = (
            self.sources[n].pk for n in ("shopify", "square", "odoo", "hubspot", "easypost")
        )
        self.source_of = {s.pk: s for s in self.sources.values()}
        self.names = {s.pk: s.name for s in self.sources.values()}
        self.stores = self._stores_ensure()
        self.shops = [s for s in self.stores if s["kind"] == "store"]
        self.warehouse = next(s for s in self.stores if s["code"] == catalog.WAREHOUSE)

    def _stores_ensure(self) -> list[dict]:
        """The sandbox's places plus five stores further west; Shopify, Square and Odoo ids for each."""
        out = []
        for idx, (code, name, kind, tz, street, city, state, zip_code, _phone, odoo_code) in enumerate(
            (*catalog.PLACES, *EXTRA_PLACES)
        ):
            store, _ = Store.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "kind": kind,
                    "timezone": tz,
                    "address": f"{street}, {city}, {state} {zip_code}",
                },
            )
            aliases = {self.S: str(70_000_000_000 + idx * 1_000_000_000 + self.u(0, 999_999_999)), self.O: str(idx + 1)}
            if kind == "store":
                aliases[self.Q] = "L8X" + self.token(10, upper=True)
            for source_id, external_id in aliases.items():
                StoreAlias.objects.update_or_create(
                    source_id=source_id, external_id=external_id, defaults={"store": store}
                )
            offset = int(ZoneInfo(tz).utcoffset(datetime(2025, 1, 15)).total_seconds())  # noqa: DTZ001 (a naive local date)
            out.append({"id": store.pk, "code": code, "kind": kind, "offset": offset, "odoo": odoo_code,
                        "place": (city.upper(), state, zip_code)})  # fmt: skip
        return out

    # --- customers ---------------------------------------------------------------------------------------------------
    def write_customers(self, copier: _Copier) -> None:
        """Customers and 1–3 identities each (Shopify, Square, HubSpot), each system writing e-mail and phone its way."""
        self.c_email: list[str] = []
        self.c_written: list[str] = []  # the e-mail as the customer types it at the storefront
        self.c_phone: list[str] = []
        self.c_place: list[tuple[str, str, str]] = []
        self.first_customer = 1
        self.serial = {"shopify": 0, "hubspot": 0}
        used_emails: dict[str, int] = {}
        used_phones: set[str] = set()
        loyalty = iter(self.rng.sample(range(1_000_000, 9_999_999), k=self.n_customers))
        for start in range(0, self.n_customers, CHUNK * 2):
            rows = {"orders_customer": [], "orders_customeridentity": []}
            for _ in range(start, min(self.n_customers, start + CHUNK * 2)):
                self._customer(rows, used_emails, used_phones, next(loyalty))
            copier.put(rows)

    def _customer(self, rows, used_emails: dict[str, int], used_phones: set[str], loyalty_number: int) -> None:
        name, stem = self._person_name()
        seen = used_emails.get(stem, 0)
        used_emails[stem] = seen + 1
        email = f"{stem}{seen + 1 if seen else ''}@{self.pick(catalog.EMAIL_DOMAINS)}"
        city, _state, _zip, areas = self.pick(catalog.CITIES)
        phone = ""
        if self.random() < 0.9:
            while phone in used_phones or not phone:
                phone = f"+1{self.pick(areas if self.random() < 0.7 else AREA_CODES)}{self.u(201, 999)}{self.u(0, 10000):04d}"
            used_phones.add(phone)
        loyalty_id = f"LY{loyalty_number}" if self.random() < 0.5 else ""
        created = self.start - self.u(0, 365 * DAY)
        cid = self.id["orders_customer"]()
        self.c_email.append(email)
        self.c_written.append(self.variant_email(email, 0.2))
        self.c_phone.append(phone)
        self.c_place.append((city.upper(), _state, _zip))
        rows["orders_customer"].append(
            f"{cid}\t{name}\t{email}\t{phone}\t{loyalty_id}\t{_ts(created)}\t{_ts(created + self.u(0, SPAN))}\n"
        )
        for source_id, external_id, written_name, written_email, written_phone, written_loyalty in self._identities(
            name, email, phone, loyalty_id
        ):
            rows["orders_customeridentity"].append(
                f"{self.id['orders_customeridentity']()}\t{source_id}\t{external_id}\t{self.now_ts}\t{self.digest()}\t"
                f"{cid}\t{written_name}\t{written_email}\t{normalise_email(written_email)}\t{written_phone}\t"
                f"{phone if written_phone else ''}\t{written_loyalty}\t{_ts(created + self.u(0, SPAN))}\t{_ts(created)}\n"
            )

    def _person_name(self) -> tuple[str, str]:
        """A display name and the e-mail stem its owner picked (``Zoë Müller`` -> ``zoe.muller``)."""
        if self.random() < 0.004:
            return self.pick(catalog.NON_LATIN_NAMES)
        first, last = self.pick(FIRST_NAMES), self.pick(LAST_NAMES)
        return f"{first} {last}", f"{_stem(first)}.{_stem(last)}"

    def _identities(self, name: str, email: str, phone: str, loyalty_id: str) -> list[tuple]:
        """Which systems know this person and how each wrote them: Shopify E.164 or dashed, Square ``+1-…``, HubSpot ``(…)``."""
        a, b, c = _national(phone) if phone else ("", "", "")
        out = []
        has = (self.random() < 0.7, self.random() < 0.4, self.random() < 0.75)
        if not any(has):
            has = (False, False, True)
        if has[0]:
            self.serial["shopify"] += 1
            written = (phone if self.random() < 0.6 else f"{a}-{b}-{c}") if phone and self.random() < 0.8 else ""
            external_id = str(7_100_000_000_000 + self.serial["shopify"] * 1000 + self.u(0, 1000))
            out.append((self.S, external_id, name, self.variant_email(email, 0.2), written, loyalty_id))
        if has[1]:
            written_name = _fold(name) if self.random() < 0.3 else name
            written_email = self.variant_email(email, 0.4) if self.random() < 0.8 else ""
            written = f"+1-{a}-{b}-{c}" if phone else ""
            out.append((self.Q, self.token(26, upper=True), written_name, written_email, written, loyalty_id))
        if has[2]:
            self.serial["hubspot"] += 1
            written = f"({a}) {b}-{c}" if phone and self.random() < 0.9 else ""
            external_id = str(51_000 + self.serial["hubspot"] * 3 + self.u(0, 3))
            out.append((self.H, external_id, name, email, written, loyalty_id))
        return out

    # --- orders ------------------------------------------------------------------------------------------------------
    def write_orders(self, copier: _Copier, *, log, started: float) -> None:
        """Orders in placement order (so Shopify and Odoo numbers rise with time), CHUNK at a time."""
        report = max(CHUNK, (self.n_orders // 10) // CHUNK * CHUNK)
        for first in range(0, self.n_orders, CHUNK):
            self.rows = {table: [] for table in TABLES if table not in ("orders_customer", "orders_customeridentity")}
            for i in range(first, min(self.n_orders, first + CHUNK)):
                self._order(i)
            copier.put(self.rows)
            done = min(self.n_orders, first + CHUNK)
            if done % report == 0 or done == self.n_orders:
                log(f"benchdata: {done:,} orders at {time.perf_counter() - started:.0f}s")

    def _order(self, i: int) -> None:
        o = self._order_plan(i)
        self._order_facts(o)
        self._order_row(o)
        self._events_flush(o)

    def _order_plan(self, i: int) -> _O:
        """Kind, customer, place and time of order ``i``, and the stages it has reached by ``now``."""
        o = _O()
        o.worst = i == self.worst_index
        o.kind = "ship" if o.worst else choose(MIX, self.random())
        o.channel = "store" if o.kind == "carry_out" else "web"
        o.placed = self.start + int((i + self.random()) * SPAN / self.n_orders)
        o.store = self.pick(self.shops) if o.kind in ("carry_out", "pickup") else None
        if o.kind == "carry_out":  # a sale at the counter: between 9:00 and 21:00 local
            local_day = (o.placed + o.store["offset"]) // DAY * DAY - o.store["offset"]
            o.placed = min(self.now - MINUTE, local_day + 9 * HOUR + self.u(0, 12 * HOUR))
        o.placed = min(o.placed, self.now - MINUTE)
        if i % self.stride == 0 and i // self.stride < self.whale_orders:
            o.customer = 0
        elif o.kind == "carry_out" and self.random() < 0.3:
            o.customer = None  # an anonymous sale
        else:
            o.customer = 1 + int((self.n_customers - 1) * self.random() ** 1.5)  # skewed: a few customers buy a lot
        o.id = self.id["orders_order"]()
        o.events, o.extras, o.ship, o.ret, o.cancel, o.promised = [], [], None, None, None, None
        o.lines = self._lines(o.kind)
        o.total = sum(q * cents for _, _, q, cents in o.lines) + {"ship": 599, "delivery": 4900}.get(o.kind, 0)
        o.card = (
            None if o.kind == "carry_out" and self.random() < 0.2 else (self.pick(CARDS), f"{self.u(0, 10000):04d}")
        )
        o.steps = self._stages(o)
        o.status = o.steps[-1][1]
        o.updated = o.steps[-1][0]
        return o

    def _lines(self, kind: str) -> list[tuple[str, str, int, int]]:
        """(sku, name, quantity, unit price in cents): 1–4 small items, or an appliance for scheduled delivery."""
        if kind == "delivery":
            chosen = [self.pick(self.big)] + ([self.pick(self.small)] if self.random() < 0.3 else [])
        else:
            chosen = [self.pick(self.small) for _ in range(self.u(1, 4 if kind == "pickup" else 5))]
        out = []
        for sku, name, cents, _big in chosen:
            roll = self.random()
            out.append((sku, name, 1 if roll < 0.85 else 2 if roll < 0.97 else 3, cents))
        return out

    def _stages(self, o: _O) -> list[tuple[int, str]]:
        """The lifecycle steps ``(time, status)`` reached by ``now``, last one the order's status."""
        p, u = o.placed, self.u
        if o.kind == "carry_out":
            return [(p, "placed"), (p, "paid"), (p, "collected")]
        if p > self.now - 2 * HOUR and self.random() < 0.1:
            return [(p, "placed")]  # payment still pending
        paid = p + u(30, 300)
        erp = paid + u(2 * MINUTE, 20 * MINUTE)
        assigned = erp + u(10 * MINUTE, 90 * MINUTE)
        picked = assigned + u(30 * MINUTE, 6 * HOUR)
        plan = [(p, "placed"), (paid, "paid"), (erp, "in_erp"), (assigned, "assigned"), (picked, "picked")]
        if o.kind == "pickup":
            ready = picked + u(30 * MINUTE, 3 * HOUR)
            o.promised = p + DAY
            plan += [(ready, "ready_for_pickup"), (ready + u(2 * HOUR, 5 * DAY), "collected")]
            cut = ready
        else:
            packed = picked + u(20 * MINUTE, 90 * MINUTE)
            plan.append((packed, "packed"))
            o.ship = self._transit(o, packed)
            plan += o.ship["stages"]
            cut = o.ship["handed"]
        if not o.worst and self.random() < CANCEL_RATE:
            cancel = p + u(HOUR, 30 * HOUR)
            if cancel < cut:
                o.ship, o.cancel = None, cancel
                plan = [step for step in plan if step[0] < cancel] + [(cancel, "cancelled")]
        elif o.kind == "ship" and not o.worst and self.random() < RETURN_RATE:
            delivered = plan[-1][0]
            requested = delivered + u(2 * DAY, 20 * DAY)
            received = requested + u(3 * DAY, 7 * DAY)
            o.ret = (requested, received, received + u(DAY, 3 * DAY))
            plan += [(requested, "return_requested"), (received, "returned"), (o.ret[2], "refunded")]
        return [step for step in plan if step[0] <= self.now]

    def _transit(self, o: _O, packed: int) -> dict:
        """The parcel's carrier, scans and stages: a label at packing, the carrier's scans until delivery."""
        u, now = self.u, self.now
        origin, dest = self.warehouse["place"], self._destination(o)
        if o.kind == "delivery":
            carrier = catalog.DELIVERY_CARRIER
            window = packed + u(3 * DAY, 10 * DAY)
            window = window // HOUR * HOUR
            o.promised = window + 4 * HOUR
            handed = window - 2 * HOUR
            delivered = window + u(10 * MINUTE, 4 * HOUR)
            scans = [
                (packed, "pre_transit", "status_update", "Shipping label created, carrier notified", origin),
                (handed, "pre_transit", "status_update", "Loaded for scheduled delivery", origin),
                (window, "out_for_delivery", "out_for_delivery", "Out for delivery", dest),
                (delivered, "delivered", "arrived_at_destination", "Delivered, left at front door", dest),
            ]
            stages = [(handed, "handed_to_carrier"), (window, "out_for_delivery"), (delivered, "delivered")]
            return {"carrier": carrier, "handed": handed, "scans": scans, "stages": stages,
                    "window": (window, window + 4 * HOUR), "est": window + 4 * HOUR}  # fmt: skip
        carrier = self.pick(catalog.SHIP_CARRIERS)
        hubs = catalog.CARRIERS[carrier][2]
        express = self.random() < 0.25
        o.promised = packed + (2 if express else 5) * DAY
        handed = packed + u(HOUR, 6 * HOUR)
        t = handed + u(4 * HOUR, 12 * HOUR)
        scans = [
            (packed, "pre_transit", "status_update", "Shipping label created, carrier notified", origin),
            (handed, "pre_transit", "status_update", "Picked up by carrier", origin),
            (t, "in_transit", "arrived_at_facility", "Arrived at origin facility", _place(hubs[0])),
        ]
        first_transit = t
        hops = WORST_SCANS - 5 if o.worst else 2
        for hop in range(hops):
            t += u(3 * HOUR, 6 * HOUR) if o.worst else u(8 * HOUR, 30 * HOUR)
            message = "Departed facility" if hop % 2 == 0 else "Arrived at regional facility"
            scans.append((t, "in_transit", "departed_facility", message, _place(hubs[1 + hop % (len(hubs) - 1)])))
        out_at = t + u(6 * HOUR, 30 * HOUR)
        delivered = out_at + u(HOUR, 8 * HOUR)
        scans += [
            (out_at, "out_for_delivery", "out_for_delivery", "Out for delivery", dest),
            (delivered, "delivered", "arrived_at_destination", "Delivered, left at front door", dest),
        ]
        stages = [(handed, "handed_to_carrier"), (first_transit, "in_transit"), (out_at, "out_for_delivery"),
                  (delivered, "delivered")]  # fmt: skip
        return {"carrier": carrier, "handed": handed, "scans": scans, "stages": stages, "window": None,
                "est": (delivered // HOUR + 1) * HOUR if delivered <= now else (out_at // HOUR + 8) * HOUR}  # fmt: skip

    def _destination(self, o: _O) -> tuple[str, str, str]:
        if o.customer is None:
            return self.warehouse["place"]
        return self.c_place[o.customer]


def _place(hub: tuple[str, str, str]) -> tuple[str, str, str]:
    city, state, zip_code = hub
    return city.upper(), state, zip_code


def _catalogue() -> list[tuple[str, str, int, bool]]:
    """The sandbox's products (sku, name, web price in cents, big), so bench SKUs are the ones the sandbox syncs."""
    out = []
    for group, (prefix, _category, items) in enumerate(catalog.REGULAR_PRODUCTS):
        for number, (base, cents) in enumerate(items):
            for colour in catalog.COLOURS:
                sku = f"{prefix}-{100 * (group + 1) + number:04d}-{colour[:3].upper()}"
                out.append((sku, f"{base} - {colour}", cents, False))
    for number, (base, cents) in enumerate(catalog.BIG_PRODUCTS):
        out.append((f"APL-{900 + number:04d}-WHT", base, cents, True))
    return out


def _sources_ensure(now: int) -> dict[str, Source]:
    """The five sandbox sources, as ``integrations.demo`` registers them, marked synced at ``now`` (not stale)."""

    sources = {}
    for name, (adapter, path, credentials) in SANDBOX_SOURCES.items():
        sources[name], _ = source_upsert(name=name, adapter=adapter, base_url=BENCH_URL + path, credentials=credentials)
    moment = datetime.fromtimestamp(now, UTC)
    Source.objects.filter(pk__in=[s.pk for s in sources.values()]).update(
        last_attempt_at=moment, last_success_at=moment
    )
    return sources
