"""The sandbox retailer: a seeded, deterministic world with a clock and a ground truth.

``World(orders=2000, seed=7)`` generates stores, a catalogue, people and orders with
their planned lifecycles (see :mod:`.plans`). Vendor views (:mod:`.formats`) show, for
the current clock, only what has happened by then, so ``advance()`` makes orders
progress and parcels get scanned. ``truth()`` says what OmniDesk should conclude.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

from .formats.shopify_graphql import CostBucket
from .generate import DEFAULT_RATES, generate
from .model import Order, Product, Store, from_epoch, parse_time, paused_gc, to_epoch
from .streams import Stream
from .truth import THRESHOLDS, build_truth

DEFAULT_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CORRUPTIONS = ("missing_id", "wrong_type", "truncated", "bad_date")
SETUP_AGE = 400 * 86400  # stores, products and locations exist long before any order


class World:
    def __init__(
        self,
        orders: int = 2000,
        seed: int = 7,
        now: datetime | None = None,
        rates: dict[str, float] | None = None,
        realtime: bool = False,
        shape: str = "standard",
    ):
        """``now``: the initial clock (orders are placed in the 30 days before it);
        ``rates``: breakdown shares to override; ``realtime``: the clock runs with wall time;
        ``shape``: "standard", or "varied" for the systems' disagreements of ``generate.VARIATIONS``."""
        if orders < 1:
            raise ValueError("a world needs at least one order")
        unknown = set(rates or {}) - set(DEFAULT_RATES)
        if unknown:
            raise ValueError(f"unknown breakdown rate(s): {', '.join(sorted(unknown))}")
        self.seed = seed
        self.size = orders
        self.shape = shape
        self.initial_now = to_epoch(now or DEFAULT_NOW)
        self.rates = {**DEFAULT_RATES, **(rates or {})}
        self.thresholds = dict(THRESHOLDS)
        built = generate(orders=orders, seed=seed, now0=self.initial_now, rates=self.rates, shape=shape)
        self.stores = built.stores
        self.products = built.products
        self.people = built.people
        self.orders = built.orders
        self.pickings = built.pickings
        self.moves = built.moves
        self.stocks = built.stocks
        self.bins = built.bins
        self.shipments = built.shipments
        self._stock_index = built.stock_index
        self.warehouse = next(s for s in self.stores if s.kind == "warehouse")
        self.setup_time = self.initial_now - SETUP_AGE
        self.lock = threading.RLock()
        self._now = self.initial_now
        self._wall_start: float | None = None
        self.corruptions: dict[tuple[str, str, str], str] = {}
        self.revision = 0  # bumped by every change not visible in the clock (corrupt, repair)
        # What the store counter wrote back (orders.pickup's outbox), shown over the generated story:
        self.fulfillment_states: dict[str, str] = {}  # Square order id -> state set by UpdateOrder
        self.shopify_fulfilled: dict[int, dict] = {}  # Shopify order id -> the fulfillment POSTed for it
        self.shopify_prepared: dict[int, int] = {}  # Shopify order id -> when it was marked ready for pickup
        self.shopify_cost = CostBucket()  # the GraphQL API's query cost bucket
        self.shopify_bulk: dict | None = None  # the last bulk operation: its number, clock, polls and JSONL file
        self.shopify_bulk_files: dict[int, bytes] = {}  # the last few operations' files, served until replaced
        self.picking_states: dict[int, tuple[str, int]] = {}  # Odoo picking id -> (done|cancel, when)
        self.move_quantities: dict[int, float] = {}  # Odoo move id -> quantity written (picked)
        self._streams: dict[tuple[str, str], Stream] = {}
        if realtime:
            self.follow_wall_clock()

    # --- clock --------------------------------------------------------------------
    @property
    def now(self) -> int:
        """The world clock in epoch seconds."""
        if self._wall_start is None:
            return self._now
        return self._now + int(time.time() - self._wall_start)

    @property
    def following_wall_clock(self) -> bool:
        return self._wall_start is not None

    @property
    def now_dt(self) -> datetime:
        return from_epoch(self.now)

    def advance(self, seconds: float) -> int:
        with self.lock:
            self._now += int(seconds)
            return self.now

    def set_now(self, value: datetime | str) -> int:
        moment = parse_time(value) if isinstance(value, str) else to_epoch(value)
        with self.lock:
            self._now = moment
            if self._wall_start is not None:
                self._wall_start = time.time()
            return self.now

    def follow_wall_clock(self, enabled: bool = True) -> None:
        """Let the clock run with wall time from where it stands (the live demo)."""
        with self.lock:
            current = self.now
            self._now = current
            self._wall_start = time.time() if enabled else None

    # --- lookups ------------------------------------------------------------------
    def stock_at(self, store: Store, product: Product, now: int) -> int | Decimal:
        stock = self._stock_index.get((store.idx, product.idx))
        return stock.quantity_at(now) if stock is not None else 0

    def web_order(self, ref: str | int) -> Order:
        """A web order by Shopify id, Shopify name (``#1001``) or world id (``O000001``)."""
        text = str(ref).strip()
        for o in self.orders:
            if o.channel == "web" and text in (str(o.shopify_id), o.number, o.order_id):
                return o
        raise KeyError(f"no web order {ref!r}")

    def truth(self) -> dict:
        with self.lock, paused_gc():
            return build_truth(self, self.now)

    # --- vendor streams -----------------------------------------------------------
    def stream(self, vendor: str, name: str) -> Stream:
        key = (vendor, name)
        stream = self._streams.get(key)
        if stream is None:
            build = STREAMS.get(key)
            if build is None:
                raise ValueError(f"unknown stream {vendor}/{name}")
            stream = self._streams[key] = build(self)
        return stream

    # --- malformed records ----------------------------------------------------------
    def corrupt(self, vendor: str, stream: str, external_id: str, how: str) -> None:
        """Make one object render broken from now on (a dead letter for the adapters)."""
        if how not in CORRUPTIONS:
            raise ValueError(f"unknown corruption {how!r}; known: {', '.join(CORRUPTIONS)}")
        with self.lock:
            target, i = self._locate(vendor, stream, external_id)
            self.corruptions[(vendor, stream, str(external_id))] = how
            target.bump(i, self.now)
            self.revision += 1

    def repair(self, vendor: str, stream: str, external_id: str) -> bool:
        """Restore a corrupted object; its updated_at moves to now so syncs fetch it again."""
        with self.lock:
            if self.corruptions.pop((vendor, stream, str(external_id)), None) is None:
                return False
            target, i = self._locate(vendor, stream, external_id)
            target.bump(i, self.now)
            self.revision += 1
            return True

    def counter_writes_forget(self) -> None:
        """Forget what the store counter wrote back (tests sharing one world start clean)."""
        with self.lock:
            written = (
                self.fulfillment_states,
                self.shopify_fulfilled,
                self.shopify_prepared,
                self.picking_states,
                self.move_quantities,
            )
            for kept in written:
                kept.clear()
            self.revision += 1

    def repair_all(self) -> int:
        with self.lock:
            return sum(self.repair(*key) for key in list(self.corruptions))

    def corruption(self, vendor: str, stream: str, external_id: str) -> str | None:
        if not self.corruptions:
            return None
        return self.corruptions.get((vendor, stream, external_id))

    def _locate(self, vendor: str, stream: str, external_id: str) -> tuple[Stream, int]:
        target = self.stream(vendor, stream)
        i = target.find(str(external_id))
        if i is None or not target.exists(i, self.now):
            raise ValueError(f"{vendor}/{stream} has no object {external_id!r} at this clock")
        return target, i


def _static(world: World) -> list[int]:
    return [world.setup_time]


STREAMS = {
    ("shopify", "orders"): lambda w: Stream(
        "shopify",
        "orders",
        [o for o in w.orders if o.channel == "web"],
        lambda o: o.shopify_id,
        lambda o: o.shopify_versions,
    ),
    ("shopify", "customers"): lambda w: Stream(
        "shopify",
        "customers",
        [p for p in w.people if p.shopify_id is not None],
        lambda p: p.shopify_id,
        lambda p: p.shopify_versions,
    ),
    ("shopify", "locations"): lambda w: Stream(
        "shopify", "locations", list(w.stores), lambda s: s.shopify_id, lambda s: _static(w)
    ),
    ("square", "orders"): lambda w: Stream(
        "square",
        "orders",
        [o for o in w.orders if o.square_id] + [r for o in w.orders for r in o.sq_returns],  # sales, return orders
        lambda o: o.square_id,
        lambda o: o.square_versions,
    ),
    ("square", "payments"): lambda w: Stream(
        "square",
        "payments",
        [o for o in w.orders if o.payment_id],
        lambda o: o.payment_id,
        lambda o: o.payment_versions(),
    ),
    ("square", "customers"): lambda w: Stream(
        "square",
        "customers",
        [p for p in w.people if p.square_id is not None],
        lambda p: p.square_id,
        lambda p: [p.square_created],
    ),
    ("square", "inventory"): lambda w: Stream(
        "square",
        "inventory",
        [s for s in w.stocks if s.store.kind == "store"],
        lambda s: f"{s.product.square_variation_id}:{s.store.square_id}",
        lambda s: list(s.versions),
    ),  # fmt: skip
    ("square", "locations"): lambda w: Stream(
        "square",
        "locations",
        [s for s in w.stores if s.square_id],
        lambda s: s.square_id,
        lambda s: _static(w),
    ),
    ("square", "catalog"): lambda w: Stream(
        "square", "catalog", list(w.products), lambda p: p.square_variation_id, lambda p: _static(w)
    ),
    ("odoo", "sale.order"): lambda w: Stream(
        "odoo",
        "sale.order",
        [o for o in w.orders if o.so_id],
        lambda o: o.so_id,
        lambda o: o.so_versions,
    ),
    ("odoo", "stock.picking"): lambda w: Stream(
        "odoo", "stock.picking", list(w.pickings), lambda p: p.id, lambda p: p.versions
    ),
    ("odoo", "stock.move"): lambda w: Stream("odoo", "stock.move", list(w.moves), lambda m: m.id, lambda m: m.versions),
    ("odoo", "stock.quant"): lambda w: Stream(
        "odoo", "stock.quant", list(w.stocks), lambda s: s.odoo_id, lambda s: list(s.versions)
    ),
    ("odoo", "res.partner"): lambda w: Stream(
        "odoo",
        "res.partner",
        [p for p in w.people if p.odoo_id is not None],
        lambda p: p.odoo_id,
        lambda p: [p.odoo_created],
    ),
    ("odoo", "stock.warehouse"): lambda w: Stream(
        "odoo",
        "stock.warehouse",
        list(w.stores),
        lambda s: s.odoo_warehouse_id,
        lambda s: _static(w),
    ),
    ("odoo", "stock.location"): lambda w: Stream(
        "odoo", "stock.location", [*w.stores, *w.bins], lambda s: s.odoo_location_id, lambda s: _static(w)
    ),
    ("odoo", "product.product"): lambda w: Stream(
        "odoo", "product.product", list(w.products), lambda p: p.odoo_id, lambda p: _static(w)
    ),
    ("hubspot", "contacts"): lambda w: Stream(
        "hubspot",
        "contacts",
        [p for p in w.people if p.hubspot_id is not None],
        lambda p: p.hubspot_id,
        lambda p: p.hubspot_versions,
    ),
    ("easypost", "trackers"): lambda w: Stream(
        "easypost",
        "trackers",
        list(w.shipments),
        lambda s: s.seq,
        lambda s: s.versions,
        external=lambda s: s.tracker_id,
    ),
}
