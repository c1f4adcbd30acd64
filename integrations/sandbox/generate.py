"""Seeded generation of the whole world: places, catalogue, people, orders, stock.

One ``random.Random(seed)`` drives everything in a fixed order, so the same seed,
size and initial clock give the same world, byte for byte.
"""

from __future__ import annotations

import random
import unicodedata
from decimal import Decimal

from . import catalog
from .draws import Draws, choose
from .model import (
    DAY,
    HOUR,
    MINUTE,
    STATUSES,
    Move,
    Order,
    Person,
    Picking,
    Product,
    Shipment,
    SquareReturn,
    Stock,
    Store,
    local_offset,
    paused_gc,
)
from .plans import WINDOW, Planner
from .systems import SystemIds

DEFAULT_RATES = {
    "phantom_order": 0.02, "unassigned": 0.03, "stock_shortfall": 0.03, "stuck_shipment": 0.03,
    "delivery_exception": 0.02, "promise_at_risk": 0.02, "promise_missed": 0.02,
    "return_not_refunded": 0.02, "duplicate_shipment": 0.01, "payment_mismatch": 0.02,
}  # fmt: skip
# kinds of order each breakdown can strike; the scarcest pools are served first
POOLS = (
    ("stock_shortfall", ("pickup",)),
    ("stuck_shipment", ("ship",)),
    ("delivery_exception", ("ship",)),
    ("promise_at_risk", ("ship",)),
    ("return_not_refunded", ("ship",)),
    ("duplicate_shipment", ("ship",)),
    ("phantom_order", ("ship", "pickup")),
    ("unassigned", ("ship", "pickup")),
    ("promise_missed", ("ship", "pickup", "delivery")),
    ("payment_mismatch", ("carry_out", "ship", "pickup", "delivery")),
)
MIX = (("carry_out", 0.35), ("ship", 0.40), ("pickup", 0.17), ("delivery", 0.08))
RETURN_RATE = 0.06
CANCEL_RATE = 0.03
GUEST_RATE = 0.15
RANK = {status: n for n, status in enumerate(STATUSES)}  # ties at one instant keep this order
SHAPES = ("standard", "varied")
# The varied shape (``World(shape="varied")``): ways real systems disagree with each other, struck per order
# at random so the sync's answer cannot depend on one system's habits (docs/sandbox-conventions.md):
# - ``erp_promise``: the ERP holds the promised date (``commitment_date``), the storefront has none;
# - ``refund_no_restock``: a return refunded in the storefront without restocked lines (a money refund), so
#   the return itself is only in the ERP (its incoming picking);
# - ``refund_before_receipt``: the refund is issued at drop-off, before the warehouse books the return in;
# - ``order_edit``: minutes after checkout, before the ERP hears of it, an edit takes a line off (its item is out of
#   stock: for a pickup, its shelf at the store is empty). The storefront keeps the line with ``current_quantity``
#   0; the card was authorised for the first total and captured for the new one. Every other system only ever
#   sees the order without it;
# - ``presentment_currency``: a web order shopped in Canadian dollars (every storefront payment_mismatch order too,
#   whose money is still out of line): the storefront's REST transactions are in CAD unless asked
#   ``in_shop_currency``, its GraphQL money bags carry ``presentmentMoney`` beside ``shopMoney``;
# - ``square_return_order``: an in-store sale brought back to a counter (any store), as Square records it: a
#   return order of its own naming the sale (``returns[].source_order_id``, ``return_line_items``, total 0, the
#   refund in its ``refunds``, PENDING until approved; cash at once), the sale's payment listing the refund
#   (``refund_ids``, ``refunded_money``) and its ``return_amounts`` rolled up a second later. Some come back
#   twice, so the first return order sorts before its sale (updated by the second) and, Square's order
#   search serving short pages (:data:`VARIED_ORDER_PAGE`), lands pages before it;
# - ``square_tender``: an in-store sale paid otherwise than by card or cash, in turn (:data:`VARIED_TENDERS`):
#   a bank transfer (ACH: PENDING for days, then COMPLETED or FAILED: a failed one took no money), a Square
#   account, Afterpay (buy now, pay later);
# - ``packages``: the outgoing picking leaves in two packages, each with its own lines and tracking number, the
#   ERP's ``carrier_tracking_ref`` comma-joining both (as Odoo's carrier connectors write it), each its own tracker;
# - ``backorder``: the picking is validated with part of the lines; the rest waits in a backorder picking
#   (``backorder_id``; its moves' ``picking_id`` rewritten to it) and leaves later in a parcel of its own. On a
#   ``promise_at_risk`` order, the part in stock leaves at once and the backorder carries the late date;
# - ``never_scanned``: a stuck parcel the carrier never scanned at all: its tracker has no tracking detail, so
#   it is silent since the hand-over (the picking's ``date_done``);
# - ``return_to_sender``: the parcel goes back to the sender after its first scans; for half of them the order is
#   sent again in a parcel of its own that the ERP does not name;
# - ``placeholder_contact``: what a clerk or a form types when the buyer gives no e-mail or phone, the same for many
#   people: POS customers and CRM contacts holding ``noemail@gmail.com``-style e-mails and ``0000000000``-style phones
#   (:data:`PLACEHOLDER_EMAILS`, :data:`PLACEHOLDER_PHONES`), guest checkouts a placeholder e-mail. Nobody's key;
# - ``household_phone``: two people of one household (different names, different e-mails) on one phone, in every
#   system that keeps it: a phone alone never makes them one customer;
# - ``voided_label``: the first label printed for a parcel is voided (a wrong address, a damaged box) and a new one
#   bought: the storefront keeps the first fulfilment, status ``cancelled``, beside the live one; the carrier keeps
#   its tracker, ``pre_transit`` and never scanned again. Only the live parcel counts;
# - ``partial_fulfilment``: the warehouse could not pick the order's last line: the rest went in the parcel, the line
#   waits in an ERP backorder (``backorder``'s, but still waiting for stock at every clock, no parcel of its own);
#   the storefront says ``fulfillment_status`` partial, the line unfulfilled. The parcel delivered is not the order
#   delivered, so its passed promise is missed;
# - ``pay_in_store``: a pickup the customer chose to pay for at the counter, with the shop's manual payment method
#   (:data:`~.catalog.PAY_IN_STORE_GATEWAY`): a ``sale`` ``pending`` from checkout (``financial_status`` pending), and once
#   the shop marks it paid at collection a second ``sale``, ``success``, of the amount outstanding, the pending one
#   left in the history as it was (Shopify's ``orderMarkAsPaid``). The first of every three collected by the
#   initial clock was never marked paid: handed over with nothing taken, a ``payment_mismatch``; before collection, none is;
# - ``wholesale``: a business customer's order (:data:`WHOLESALE_LINES` lines, each by the case) that no Shopify query
#   at sizes holding a usual order reads whole: it leaves in :data:`WHOLESALE_PARCELS` parcels of a dozen lines or so,
#   a fulfilment each, and a dozen of its lines come back in one return that the shop refunds in
#   :data:`WHOLESALE_REFUNDS` refunds as it inspects the cartons, the first of four lines. A few per world
#   (:data:`WHOLESALE_EVERY`), drawn from their own random stream (their lines and later parcels numbered apart) so
#   every other order, parcel and person stays as it was (the ERP numbers its moves in sequence: later ones move up).
VARIATIONS = (
    "erp_promise", "refund_no_restock", "refund_before_receipt", "order_edit", "presentment_currency",
    "square_return_order", "square_tender", "packages", "backorder", "never_scanned", "return_to_sender",
    "placeholder_contact", "household_phone", "voided_label", "partial_fulfilment", "pay_in_store", "wholesale",
    "measured_quantity",
)  # fmt: skip
PLACEHOLDER_EMAILS = ("noemail@gmail.com", "none@none.com", "NoEmail@Yahoo.com", "declined@store.com")
PLACEHOLDER_PHONES = ("0000000000", "(555) 555-5555", "111-111-1111", "000-000-0000")
PLACEHOLDER_SHARE = 0.3  # of the people a system keeps (who keep real keys elsewhere)
PLACEHOLDER_GUEST_SHARE = 0.5  # of the guest orders with a phone (without one, a guest would have no key at all)
HOUSEHOLDS = 3  # pairs of people sharing a phone; the first pair are both POS customers, who vouch for it
PRESENTMENT = ("CAD", 13_568)  # Canadian dollars per 10,000 US: the order's own rate, fixed at checkout
VARIED_SHARE = 0.4  # of the orders a variation can apply to
VARIED_STORE_RETURNS = 0.3  # of the in-store sales, brought back to a counter
VARIED_TWICE = 0.4  # of the in-store returns of two lines or more, in two visits (a line each)
VARIED_TENDER_SHARE = 0.3  # of the other in-store card sales, paid with one of VARIED_TENDERS
VARIED_TENDERS = ("BANK_ACCOUNT:COMPLETED", "BANK_ACCOUNT:PENDING", "BANK_ACCOUNT:FAILED", "SQUARE_ACCOUNT", "BUY_NOW_PAY_LATER")  # fmt: skip
PAY_IN_STORE_FORGOTTEN = 3  # the first of every three collected by the initial clock was never marked paid
VARIED_ORDER_PAGE = 10  # at most this many orders per SearchOrders page in the varied shape
VARIED_STORE_PRICES = 0.35  # of the products, whose store price differs from the web price
VARIED_RETURN_RATE = 0.3  # of the shipped orders: enough returns for every way of refunding them
VARIED_PARCELS = 0.5  # of the plain shipped orders (delivered before the promise, no return): packages, backorder, ...
WHOLESALE_EVERY = 700  # one wholesale order per this many orders of the world, at least one
WHOLESALE_LINES = (60, 72)  # lines, at least and at most
WHOLESALE_CASES = (6, 12, 12, 24, 24, 36)  # the quantity of a line, in units of a case
WHOLESALE_PARCELS = (5, 6)
WHOLESALE_REFUNDS = (4, 2, 2, 2, 2)  # the returned lines each refund gives the money back for
# ``measured_quantity``: in-store sales whose first line was sold by measure, in turn one of these (quantity, Square
# measurement_unit, the unit OmniDesk shows): a length, a weight, a volume, a seller's custom unit; a whole one too.
MEASURES = (
    ("1.5", {"length_unit": "IMPERIAL_FOOT"}, "ft"),
    ("0.75", {"weight_unit": "METRIC_KILOGRAM"}, "kg"),
    ("0.5", {"custom_unit": {"name": "Spool", "abbreviation": "spl"}, "type": "TYPE_CUSTOM"}, "spl"),
    ("1.5", {"length_unit": "METRIC_METER"}, "m"),
    ("1", {"volume_unit": "METRIC_LITER"}, "l"),
    ("0.25", {"weight_unit": "IMPERIAL_POUND"}, "lb"),
)
PARCEL_TURNS = ("packages", "backorder", "return_to_sender", "packages", "backorder", "return_to_sender_again")


class Built:
    """Everything the generator made, handed to :class:`~.world.World`."""

    def __init__(self):
        self.stores: list[Store] = []
        self.products: list[Product] = []
        self.people: list[Person] = []
        self.orders: list[Order] = []
        self.pickings: list[Picking] = []
        self.moves: list[Move] = []
        self.stocks: list[Stock] = []
        self.bins: list = []
        self.shipments: list = []
        self.stock_index: dict = {}


def generate(*, orders: int, seed: int, now0: int, rates: dict[str, float], shape: str = "standard") -> Built:
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    with paused_gc():
        return Generator(orders, seed, now0, rates, shape).run()


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class Generator(SystemIds, Draws):
    def __init__(self, size: int, seed: int, now0: int, rates: dict[str, float], shape: str = "standard"):
        self.size, self.now0, self.rates, self.shape = size, now0, rates, shape
        self.seed = seed
        self.rng = random.Random(seed)
        self.wholesale_rng = self.rng  # varied: the wholesale orders' own stream (:meth:`wholesale`)
        self.wholesale_parcels: set = set()
        self.random = self.rng.random
        self.out = Built()

    def run(self) -> Built:
        self.places()
        self.catalogue()
        self.make_people()
        self.make_orders()
        self.plan_orders()
        self.number_orders()
        self.make_erp()
        self.make_stock()
        self.make_shipments()
        self.link_people()
        if self.shape == "varied":
            self.vary_people()
            self.vary_measured()
        return self.out

    # --- places and catalogue -----------------------------------------------------
    def places(self) -> None:
        user_id = 6
        for idx, row in enumerate(catalog.PLACES):
            store = Store(idx, *row)
            store.shopify_id = 70_000_000_000 + idx * 1_000_000_000 + self.u(0, 999_999_999)
            if store.kind == "store":
                store.square_id = "L8X" + self.token(10, upper=True)
            store.odoo_warehouse_id = idx + 1
            store.odoo_location_id = 8 + 10 * idx
            store.odoo_picking_type_id = 2 + 10 * idx
            for name in catalog.STAFF[store.odoo_code]:
                store.staff.append((user_id, name))
                user_id += 1
            self.out.stores.append(store)
        self.warehouse = next(s for s in self.out.stores if s.code == catalog.WAREHOUSE)
        self.shops = [s for s in self.out.stores if s.kind == "store"]

    def catalogue(self) -> None:
        products = self.out.products
        for group, (prefix, category, items) in enumerate(catalog.REGULAR_PRODUCTS):
            for number, (base, cents) in enumerate(items):
                for colour in catalog.COLOURS:
                    store_cents = cents
                    differs = VARIED_STORE_PRICES if self.shape == "varied" else 0.12
                    if self.random() < differs:  # S13: this item costs differently in store
                        store_cents = max(99, round(cents * (0.85 + self.random() * 0.3) / 100) * 100 - 1)
                    sku = f"{prefix}-{100 * (group + 1) + number:04d}-{colour[:3].upper()}"
                    products.append(
                        Product(
                            len(products),
                            sku,
                            f"{base} - {colour}",
                            category,
                            cents,
                            store_cents,
                            False,
                            self.u(100, 3000),
                        )
                    )
        for number, (base, cents) in enumerate(catalog.BIG_PRODUCTS):
            products.append(
                Product(
                    len(products),
                    f"APL-{900 + number:04d}-WHT",
                    base,
                    "Appliances",
                    cents,
                    cents,
                    True,
                    self.u(40000, 120000),
                )
            )
        for product in products:
            product.shopify_product_id = 8_100_000_000_000 + product.idx * 1000 + self.u(0, 999)
            product.shopify_variant_id = 45_000_000_000_000 + product.idx * 1000 + self.u(0, 999)
            product.square_item_id = self.token(24, upper=True)
            product.square_variation_id = self.token(24, upper=True)
            product.odoo_id = 10 + product.idx
        self.small = [p for p in products if not p.big]
        self.big = [p for p in products if p.big]

    # --- people -------------------------------------------------------------------
    def make_people(self) -> None:
        count = max(8, round(0.3 * self.size))
        used_emails: dict[str, int] = {}
        used_phones: set[str] = set()
        loyalty = self.rng.sample(range(1_000_000, 9_999_999), k=count)
        for idx in range(count):
            person = Person(idx)
            person.first = self.pick(catalog.FIRST_NAMES)
            person.last = self.pick(catalog.LAST_NAMES)
            local = f"{ascii_slug(person.first)}.{ascii_slug(person.last)}"
            seen = used_emails.get(local, 0)
            used_emails[local] = seen + 1
            if seen:
                local += str(seen + 1)
            person.email = f"{local}@{self.pick(catalog.EMAIL_DOMAINS)}"
            city, state, zip_code, areas = self.pick(catalog.CITIES)
            person.city, person.state, person.zip = city, state, zip_code
            person.street = f"{self.u(1, 999)} {self.pick(catalog.STREETS)}"
            person.phone = ""
            if self.random() < 0.9:
                while True:
                    phone = f"+1{self.pick(areas)}555{self.u(0, 10000):04d}"
                    if phone not in used_phones:
                        used_phones.add(phone)
                        person.phone = phone
                        break
            person.loyalty_id = f"LY{loyalty[idx]}" if self.random() < 0.4 else ""
            person.created = self.now0 - self.u(35 * DAY, 400 * DAY)
            person.shopify_email = self.variant_email(person.email, 0.2)
            person.square_email = self.variant_email(person.email, 0.4)
            self.out.people.append(person)

    # --- orders -------------------------------------------------------------------
    def make_orders(self) -> None:
        people = self.out.people
        n_people = len(people)
        for idx in range(self.size):
            kind = choose(MIX, self.random())
            o = Order(idx, "store" if kind == "carry_out" else "web", kind)
            if kind == "carry_out":
                o.store = self.pick(self.shops)
                if self.random() < 0.7:
                    o.person = people[int(n_people * self.random() ** 1.4)]
                lines = self.lines(self.u(1, 6), self.small, store=True)
            else:
                o.person = people[int(n_people * self.random() ** 1.4)]
                o.guest = self.random() < GUEST_RATE
                if kind == "pickup":
                    o.store = self.pick(self.shops)
                    o.shipping_code = "pickup"
                    lines = self.lines(self.u(1, 4), self.small)
                elif kind == "delivery":
                    o.shipping_code = "scheduled_delivery"
                    lines = self.lines(1, self.big) + (self.lines(1, self.small) if self.random() < 0.3 else [])
                else:
                    o.shipping_code = "express" if self.random() < 0.25 else "standard"
                    lines = self.lines(self.u(1, 5), self.small)
                o.shipping_cents = catalog.SHIPPING[o.shipping_code][1]
                o.email = self.variant_email(o.person.email, 0.3) if o.guest else o.person.shopify_email
            o.lines = lines
            o.total = o.captured = sum(price * q for _, q, price in lines) + o.shipping_cents
            brand = self.pick(catalog.CARD_BRANDS)
            o.card = (brand[0], brand[1], f"{self.u(0, 10000):04d}")
            if kind == "carry_out" and self.random() < 0.2:
                o.card = ("", "", "")  # paid cash
            self.out.orders.append(o)

    def lines(self, count: int, pool: list[Product], store: bool = False) -> list[tuple[Product, int, int]]:
        chosen: list[Product] = []
        while len(chosen) < count:
            product = self.pick(pool)
            if product not in chosen:
                chosen.append(product)
        out = []
        for product in chosen:
            roll = self.random()
            quantity = 1 if roll < 0.85 else 2 if roll < 0.97 else 3
            out.append((product, quantity, product.store_cents if store else product.web_cents))
        return out

    def plan_orders(self) -> None:
        orders = self.out.orders
        planner = self.planner = Planner(self.rng, self.now0, self.warehouse, self.destination)
        self.parcel_turn = 0
        taken: set[int] = set()
        for kind, pool_kinds in POOLS:
            want = round(self.rates.get(kind, 0.0) * self.size)
            pool = [o.idx for o in orders if o.kind in pool_kinds and o.idx not in taken]
            for idx in sorted(self.rng.sample(pool, min(want, len(pool)))):
                orders[idx].breakdown = kind
                taken.add(idx)
        mismatch_variants = {"carry_out": ("short_tender",), "ship": ("under_captured", "cancelled_not_refunded", "refunded_twice"),
                             "pickup": ("under_captured", "cancelled_not_refunded"), "delivery": ("under_captured",)}  # fmt: skip
        turn = 0
        for o in orders:
            if o.kind == "carry_out":
                o.placed = self.store_time(o.store)
            else:
                o.placed = self.now0 - self.u(60, WINDOW)
            if o.breakdown is None:
                planner.normal(o, VARIED_RETURN_RATE if self.shape == "varied" else RETURN_RATE, CANCEL_RATE)
                continue
            if o.breakdown == "payment_mismatch":
                variants = mismatch_variants[o.kind]
                o.variant = variants[turn % len(variants)]
                turn += 1
            planner.broken(o, o.breakdown)
        self.fix_shortfalls()
        if self.shape == "varied":
            self.vary_orders()
        for o in orders:
            o.events = self.lifecycle(o)
            o.event_times = [t for t, _ in o.events]

    def vary_orders(self) -> None:
        """Strike the varied shape's departures (:data:`VARIATIONS`) on the orders they can apply to."""
        self.pickup_shelves = {
            (o.store.idx, p.idx) for o in self.out.orders if o.kind == "pickup" for p, _, _ in o.lines
        }
        turn = paid_in_store = 0
        # the first open pickup eligible and the first two collected always pay in store: one still to pay, one
        # handed over never marked paid, one marked paid, in any world
        awaiting_payment = False
        for o in self.out.orders:
            vary = set()
            if (
                o.channel == "web"
                and o.kind == "pickup"
                and o.breakdown != "payment_mismatch"
                and o.cancel is None
                and not o.refunds
                and (
                    self.random() < VARIED_SHARE / 2
                    or (not awaiting_payment if self.open_pickup(o) else paid_in_store < 2)
                )
            ):
                vary.add("pay_in_store")
                awaiting_payment = awaiting_payment or self.open_pickup(o)
                o.pay_in_store = True
                o.marked_paid = o.collected
                if o.collected is not None and o.collected <= self.now0:
                    paid_in_store += 1
                    if paid_in_store % PAY_IN_STORE_FORGOTTEN == 1:
                        o.marked_paid = None  # handed over, the money taken, the order never marked paid
            if o.kind == "carry_out" and o.breakdown is None:
                if self.random() < VARIED_STORE_RETURNS and self.store_returns(o):
                    vary.add("square_return_order")
                elif o.card[0] and self.random() < VARIED_TENDER_SHARE:
                    vary.add("square_tender")
                    self.other_tender(o, VARIED_TENDERS[turn % len(VARIED_TENDERS)])
                    turn += 1
            if (
                o.channel == "web"
                and o.kind != "delivery"
                and o.promised is not None
                and o.erp is not None
                and o.erp <= self.now0
                and self.random() < VARIED_SHARE
            ):
                vary.add("erp_promise")
            # a web order's return: refunded in the storefront, booked in by the warehouse (not a counter's)
            returns = [n for n, refund in enumerate(o.refunds) if refund[3] == "return" and o.channel == "web"]
            if returns and self.random() < VARIED_SHARE:
                vary.add("refund_no_restock")
            if returns and o.ret_request is not None and self.random() < VARIED_SHARE:
                vary.add("refund_before_receipt")
                span = o.ret_done - o.ret_request
                early = o.ret_request + span // 4 + int(self.random() * (span // 2))
                for n in returns:
                    _, cents, lines, kind = o.refunds[n]
                    o.refunds[n] = (early + n * MINUTE, cents, lines, kind)
            if (
                "pay_in_store" not in vary
                and self.editable(o)
                and (self.open_pickup(o) or self.random() < VARIED_SHARE)
            ):
                vary.add("order_edit")
                self.edit_off(o)
            if (
                o.channel == "web"
                and "pay_in_store" not in vary
                and (o.breakdown == "payment_mismatch" or self.random() < VARIED_SHARE / 2)
            ):
                vary.add("presentment_currency")
                o.presentment = PRESENTMENT
            vary |= self.vary_parcels(o)
            if (
                not vary & {"never_scanned", "return_to_sender"}
                and len(o.shipments) == 1
                and o.kind == "ship"
                and o.shipments[0].created <= self.now0
                and o.shipments[0].created - o.pack > 3 * MINUTE  # room for a label bought and voided between
                and self.random() < VARIED_SHARE / 2
            ):
                vary.add("voided_label")
                self.void_label(o)
            o.vary = frozenset(vary)
        self.wholesale()

    def wholesale(self) -> None:
        """``wholesale``: a few plain shipped orders (the ERP may hold their promise), delivered well before the initial
        clock, become a business customer's, their return (in place of any planned) refunded by then. Their draws come from a stream of their own: the rest of the world is unchanged."""
        rng = self.wholesale_rng = random.Random(f"wholesale:{self.seed}")
        planner = Planner(rng, self.now0, self.warehouse, self.destination)
        pool = [
            o for o in self.out.orders
            if o.kind == "ship" and o.shipping_code == "standard" and not o.guest and o.breakdown is None
            and o.cancel is None and o.vary <= {"erp_promise"} and o.voided is None
            and len(o.shipments) == 1 and (o.arrived_at() or self.now0) < self.now0 - 16 * DAY
        ]  # fmt: skip
        for o in sorted(rng.sample(pool, min(len(pool), max(1, self.size // WHOLESALE_EVERY))), key=lambda o: o.idx):
            o.lines = [
                (p, rng.choice(WHOLESALE_CASES), p.web_cents)
                for p in rng.sample(self.small, rng.randint(*WHOLESALE_LINES))
            ]
            o.total = o.captured = sum(price * q for _, q, price in o.lines) + o.shipping_cents
            count = rng.randint(*WHOLESALE_PARCELS)
            first = o.shipments[0]
            for k in range(count):  # every parcel handed over together, a dozen lines or so each
                parcel = first if k == 0 else planner._parcel(o, first.created, rng.randint(0, 1))
                parcel.lines = tuple(range(k * len(o.lines) // count, (k + 1) * len(o.lines) // count))
                if k:
                    o.shipments.append(parcel)
                    self.wholesale_parcels.add(parcel)
            o.ret_request = o.arrived_at() + planner.u(DAY, 3 * DAY)  # its own return, in place of any planned
            o.ret_done = o.ret_request + planner.u(2 * DAY, 4 * DAY)
            returned = sorted(rng.sample(range(len(o.lines)), sum(WHOLESALE_REFUNDS)))
            o.ret_lines = [(n, o.lines[n][1]) for n in returned]
            at, start, o.refunds = o.ret_done, 0, []
            for size in WHOLESALE_REFUNDS:  # refunded as the cartons are inspected, all within three days
                at += planner.u(HOUR, 12 * HOUR)
                lines, start = o.ret_lines[start : start + size], start + size
                o.refunds.append((at, sum(o.lines[n][2] * q for n, q in lines), lines, "return"))
            o.vary = o.vary | {"wholesale"}

    def editable(self, o: Order) -> bool:
        """A web order to ship or pick up, entered in the ERP more than two minutes after it was placed, normal (or a
        pickup nobody is assigned to: still open at the initial clock, where a line counted by mistake is short)."""
        return (
            o.channel == "web"
            and o.kind in ("ship", "pickup")
            and (o.breakdown is None or (o.kind, o.breakdown) == ("pickup", "unassigned"))
            and o.cancel is None
            and o.erp is not None
            and o.erp - o.placed >= 2 * MINUTE
            and o.erp <= self.now0
        )

    def open_pickup(self, o: Order) -> bool:
        """Still waiting at the store at the initial clock: its removed line would be short on the shelf."""
        return o.kind == "pickup" and (o.collected is None or o.collected > self.now0)

    def edit_off(self, o: Order) -> None:
        """``order_edit``: take off, before the ERP entry, a line of an item out of stock (at a pickup's store, a
        shelf no other pickup draws on, emptied before the order was placed)."""
        if o.kind == "pickup":
            pool = [p for p in self.small if (o.store.idx, p.idx) not in self.pickup_shelves]
        else:
            pool = [p for p in self.small if all(p is not q for q, _, _ in o.lines)]
        product = self.pick(pool)
        o.removed = [(product, 1, product.web_cents)]
        o.edited = o.placed + self.u(30, o.erp - o.placed)
        if o.kind == "pickup":
            shelf = (o.store.idx, product.idx)
            self.pickup_shelves.add(shelf)
            self.emptied.append((shelf, o.placed - self.u(HOUR, 6 * HOUR), 0))

    def store_returns(self, o: Order) -> bool:
        """Bring an in-store sale back to a counter (a Square return order per visit); False if it is too recent.

        Each visit's refund goes back as the sale was paid: cash at once, a card's refund PENDING for
        one hour to two days (some still pending at the clock). Its money is refunded, in the world, once
        settled.
        """
        latest = self.now0 - HOUR
        first = o.placed + self.u(DAY, 12 * DAY)
        if first > latest:
            return False
        everything = [(n, q) for n, (_, q, _) in enumerate(o.lines)]
        if len(o.lines) > 1 and self.random() < VARIED_TWICE:
            visits = [(first, everything[:1]), (min(latest, first + self.u(DAY, 5 * DAY)), everything[1:2])]
        else:
            visits = [(first, everything if self.random() < 0.5 or len(o.lines) == 1 else everything[:1])]
        for seq, (at, lines) in enumerate(visits):
            store = self.pick(self.shops) if self.random() < 0.3 else o.store
            settled = at if not o.card[0] else at + self.u(HOUR, 2 * DAY)
            ret = SquareReturn(o, seq, at, settled, lines, store)
            o.sq_returns.append(ret)
            o.refunds.append((settled, ret.cents, lines, "return"))
        o.ret_request = o.ret_done = first
        o.ret_lines = [line for _, lines in visits for line in lines]
        return True

    def other_tender(self, o: Order, variant: str) -> None:
        """Pay an in-store sale with ``variant`` (:data:`VARIED_TENDERS`): ``TYPE`` or ``BANK_ACCOUNT:<outcome>``.

        A bank transfer settles two to five days after the sale, no later than the clock (an
        outcome of PENDING: it settles, COMPLETED, one hour to three days after the clock).
        """
        o.tender, _, outcome = variant.partition(":")
        if o.tender != "BANK_ACCOUNT":
            return
        if outcome == "PENDING":
            o.settle = (self.now0 + self.u(HOUR, 3 * DAY), "COMPLETED")
        else:
            o.settle = (max(o.placed + 1, min(o.placed + self.u(2 * DAY, 5 * DAY), self.now0 - MINUTE)), outcome)

    def vary_parcels(self, o: Order) -> set[str]:
        """The carrier and ERP departures (:data:`VARIATIONS`): at most one per order, each on the orders whose
        plan leaves room for it (a plain shipped order keeps delivering before its promise)."""
        if o.kind != "ship" or len(o.shipments) != 1 or o.cancel is not None:
            return set()
        if o.breakdown == "stuck_shipment":
            return {"never_scanned"} if self.random() < VARIED_SHARE and self.never_scanned(o) else set()
        split = len(o.lines) >= 2
        if o.breakdown == "promise_at_risk":
            return {"backorder"} if split and self.late_backorder(o) else set()
        if o.breakdown is not None or o.ret_request is not None or o.refunds:
            return set()
        if self.splittable(o) and self.random() < VARIED_SHARE:
            self.hold_back(o)
            return {"partial_fulfilment"}
        if self.random() >= VARIED_PARCELS:
            return set()
        # in turn, so that each shape strikes some orders whatever the world's size
        standard = o.shipping_code == "standard"
        for _ in PARCEL_TURNS:
            turn = PARCEL_TURNS[self.parcel_turn % len(PARCEL_TURNS)]
            self.parcel_turn += 1
            if turn == "packages" and split:
                self.packages(o)
            elif turn == "backorder" and split and standard:
                self.backorder(o)
            elif turn.startswith("return_to_sender") and standard:
                self.return_to_sender(o, again=turn.endswith("again"))
                turn = "return_to_sender"
            else:
                continue
            return {turn}
        return set()

    def split_lines(self, o: Order) -> tuple[tuple[int, ...], tuple[int, ...]]:
        cut = 1 + int(self.random() * (len(o.lines) - 1))
        return tuple(range(cut)), tuple(range(cut, len(o.lines)))

    def packages(self, o: Order) -> None:
        """Two packages handed over together. Where the first is delivered by the initial clock and the promise is
        more than 61 h ahead, the second keeps travelling until just past that clock (every gap under 30 h, delivered
        within 60 h of it, so still by the promise): part delivered, not yet the order delivered."""
        first = o.shipments[0]
        first.lines, rest = self.split_lines(o)
        slow = first.scans[-1][0] < self.now0 and o.promised is not None and o.promised > self.now0 + 61 * HOUR
        hops = 0 if o.shipping_code == "express" else 1
        second = self.planner._parcel(o, first.created, hops, until=self.now0 + 2 * HOUR if slow else None)
        second.lines = rest
        o.shipments.append(second)

    def backorder(self, o: Order) -> None:
        """What was in stock leaves at ``done``; the rest a day or two later (hops 0: still before the promise)."""
        o.shipments[0].lines, o.back_lines = self.split_lines(o)
        o.back_sched = o.done + self.u(DAY, 2 * DAY)
        o.back_done = o.back_sched - self.u(0, 3 * HOUR)
        second = self.planner._parcel(o, o.back_done, 0)
        second.lines, second.picking = o.back_lines, "back"
        o.shipments.append(second)

    def splittable(self, o: Order) -> bool:
        """A plain order of several lines handed over by the initial clock whose promise has passed: a line held back
        leaves it missed, not at risk."""
        shipped = o.shipments[0].created <= self.now0
        return len(o.lines) >= 2 and shipped and o.promised is not None and o.promised < self.now0

    def hold_back(self, o: Order) -> None:
        """``partial_fulfilment``: a backorder of the last line whose stock never comes (no ``back_done``, no parcel
        of its own); Odoo's backorder keeps the first picking's scheduled date."""
        o.shipments[0].lines, o.back_lines = tuple(range(len(o.lines) - 1)), (len(o.lines) - 1,)
        o.back_sched = o.sched_at(o.done)

    def void_label(self, o: Order) -> None:
        """``voided_label``: a first label bought after packing and voided before the live parcel's hand-over; its
        tracker says "label created" and nothing more."""
        live = o.shipments[0]
        label = o.pack + self.u(MINUTE, live.created - o.pack - MINUTE)
        scans = [(label, *live.scans[0][1:])]  # "Shipping label created", and never a scan again
        o.voided = Shipment(o, label, live.carrier, live.service, scans, live.est_delivery)
        o.voided.voided = label + self.u(MINUTE // 2, live.created - label)
        o.voided.lines = live.lines

    def late_backorder(self, o: Order) -> bool:
        """A promise_at_risk order split: the lines in stock leave a few hours after assignment, the rest wait in
        the backorder until the late date the ERP set (the planned parcel, at ``done``)."""
        late = o.shipments[0]
        early = o.assign + self.u(HOUR, 4 * HOUR)
        if early >= late.created:
            return False
        first = self.planner._parcel(o, early, 1)
        first.lines, o.back_lines = self.split_lines(o)
        late.lines, late.picking = o.back_lines, "back"
        o.back_sched, o.back_done = o.sched[-1][1], late.created
        o.pick, o.pack, o.done = early - 40 * MINUTE, early - 15 * MINUTE, early
        o.shipments = [first, late]
        return True

    def never_scanned(self, o: Order) -> bool:
        parcel = o.shipments[0]
        parcel.scans = parcel.scans[:1]  # the hand-over: no carrier scan follows
        parcel.scan_times = [parcel.created]
        parcel.silent = True
        return True

    def return_to_sender(self, o: Order, again: bool) -> None:
        """Back to the sender after the first scan (a refusal); ``again``: sent again, a parcel the ERP does not name."""
        parcel = o.shipments[0]
        t = parcel.scans[1][0] + self.u(6 * HOUR, 30 * HOUR)
        dest = self.destination(o)
        parcel.scans = [
            *parcel.scans[:2],
            (t, "return_to_sender", "return", "Returned to sender: refused by recipient", dest),
        ]
        parcel.scan_times = [s[0] for s in parcel.scans]
        if again:
            replacement = self.planner._parcel(o, t + self.u(2 * HOUR, 12 * HOUR), 0)
            replacement.picking = None
            o.shipments.append(replacement)

    def vary_people(self) -> None:
        """The varied shape's departures in who is whom: shared household phones, then placeholder contacts. Each
        placeholder goes to two people in turn (then the next one), so each is typed for different people."""
        self.share_phones()
        values = {"email": PLACEHOLDER_EMAILS, "phone": PLACEHOLDER_PHONES}
        for system in ("square", "hubspot"):
            typed = {"email": 0, "phone": 0}
            for p in self.out.people:
                if self.known_to(p, system) and system not in p.typed and self.random() < PLACEHOLDER_SHARE:
                    roll = self.random()
                    kinds = ("email", "phone") if roll < 0.5 else ("email",) if roll < 0.75 else ("phone",)
                    p.typed[system] = {k: values[k][typed[k] // 2 % len(values[k])] for k in kinds}
                    typed.update({k: typed[k] + 1 for k in kinds})
        for o in self.out.orders:
            if o.guest and o.person.phone and self.random() < PLACEHOLDER_GUEST_SHARE:
                o.email = self.pick(PLACEHOLDER_EMAILS)
                o.vary |= {"placeholder_contact"}

    def vary_measured(self) -> None:
        """``measured_quantity``: the first line of a few plain in-store sales (before the initial clock, never
        brought back) was sold by measure: 1.5 ft, 0.75 kg… at a base price whose product with the quantity is the
        line's total, so every money figure stays as it was. Each of :data:`MEASURES` goes to the first such sale it
        prices in whole cents; chosen in order, without the seeded stream (no other variation moves)."""
        plain = [
            o
            for o in self.out.orders
            if o.kind == "carry_out" and o.breakdown is None and not o.refunds and not o.sq_returns
            and o.placed <= self.now0
        ]  # fmt: skip
        for amount, unit, shown in MEASURES:
            for o in plain:
                _, quantity, price = o.lines[0]
                base = Decimal(price * quantity) / Decimal(amount)
                if o.measure is None and base == base.to_integral_value():
                    o.measure = (0, amount, unit, shown, int(base))
                    o.vary |= {"measured_quantity"}
                    self.count_by_measure(o.store, o.lines[0][0], amount, shown)
                    break

    def count_by_measure(self, store, product, amount: str, unit: str) -> None:
        """The store counts a product it sells by measure as it sells it: its opening count keeps the remnant of
        a unit cut into (what a whole unit less the measure leaves, 12 -> 12.5 after 1.5 ft; half of one after a
        whole measure). Only a fraction is added to a whole count and no whole need moves across it, so no flag
        changes (``stock_shortfall`` compares it with whole lines alone). A shelf that later drops (a planted
        shortfall, an emptied shelf) or that the store does not keep (a big item) stays whole, as does a shelf
        counted so already."""
        stock = self.out.stock_index.get((store.idx, product.idx))
        if stock is None or stock.unit or len(stock.changes) > 1:
            return
        remnant = (1 - Decimal(amount) % 1) % 1 or Decimal("0.5")
        (since, quantity), *_ = stock.changes
        stock.changes = [(since, quantity + remnant)]
        stock.unit = unit

    def known_to(self, p: Person, system: str) -> bool:
        """Whether ``system`` keeps a record of them while a storefront account or an ERP partner holds their real
        e-mail and phone from the initial clock (their guest orders link there, whatever the POS and CRM hold)."""
        kept = p.square_id if system == "square" else p.hubspot_id
        return kept is not None and any(t is not None and t <= self.now0 for t in (p.shopify_created, p.odoo_created))

    def share_phones(self) -> None:
        """``household_phone``: the second of each pair takes the first's phone. The first pair are both POS
        customers (who vouch for their phone) with one placeholder e-mail there, so only their given names tell
        them apart."""
        taken: set[int] = set()
        for n in range(HOUSEHOLDS):
            pool = [
                p for p in self.out.people
                if p.idx not in taken and p.phone and self.known_to(p, "square" if n == 0 else "hubspot")
            ]  # fmt: skip
            first = self.pick(pool)
            second = self.pick([p for p in pool if p.first != first.first])
            taken |= {first.idx, second.idx}
            second.phone = first.phone
            if n == 0:
                first.typed["square"] = second.typed["square"] = {"email": self.pick(PLACEHOLDER_EMAILS)}

    def destination(self, o: Order) -> tuple[str, str, str]:
        p = o.person
        return (p.city, p.state, p.zip)

    def store_time(self, store: Store) -> int:
        """A sale at the counter: some day in the window, between 9:00 and 21:00 local."""
        day = self.now0 - self.u(DAY, WINDOW)
        offset = local_offset(day, store.timezone)
        midnight = (day + offset) // DAY * DAY - offset
        return min(self.now0 - 60, midnight + 9 * HOUR + self.u(0, 12 * HOUR))

    def fix_shortfalls(self) -> None:
        """Choose the shelf each short pickup runs out on, and how low it drops.

        A shelf (store, SKU) drops, at the earliest short order's ``drop_at``, to the
        largest quantity any other open pickup still needs from it, and each short
        order on it asks for more than that. So ``stock_shortfall`` strikes exactly the
        chosen orders and no neighbour, whatever the size of the world.
        """
        never = 1 << 62
        needs: dict[tuple[int, int], list[tuple[int, int]]] = {}  # shelf -> [(open until, quantity)]
        for o in self.out.orders:
            if o.kind == "pickup" and o.breakdown != "stock_shortfall":
                end = o.collected or o.cancel or never
                for product, quantity, _ in o.lines:
                    needs.setdefault((o.store.idx, product.idx), []).append((end, quantity))

        def level(shelf: tuple[int, int], since: int) -> int:
            return max((q for end, q in needs.get(shelf, ()) if end > since), default=0)

        shelves: dict[tuple[int, int], list[tuple[Order, int]]] = {}
        for o in self.out.orders:
            if o.breakdown == "stock_shortfall":
                line = min(
                    range(len(o.lines)),
                    key=lambda n: (level((o.store.idx, o.lines[n][0].idx), o.drop_at), n),
                )
                shelves.setdefault((o.store.idx, o.lines[line][0].idx), []).append((o, line))
        self.drops: list[tuple[tuple[int, int], int, int]] = []
        self.emptied: list[tuple[tuple[int, int], int, int]] = []  # varied order_edit: (shelf, since, 0)
        for shelf, short in shelves.items():
            since = min(o.drop_at for o, _ in short)
            floor = level(shelf, since)
            for o, line in short:
                product, quantity, price = o.lines[line]
                if quantity <= floor:
                    o.lines[line] = (product, floor + 1, price)
                    o.total = o.captured = sum(p * q for _, q, p in o.lines) + o.shipping_cents
            self.drops.append((shelf, since, floor))

    def lifecycle(self, o: Order) -> list[tuple[int, str]]:
        p = o.placed
        if o.kind == "carry_out":
            return [(p, "placed"), (p, "paid"), (p, "collected")]
        steps = [(p, "placed"), (p, "paid")]
        for t, status in (
            (o.erp, "in_erp"),
            (o.assign, "assigned"),
            (o.pick, "picked"),
            (o.pack, "packed"),
            (o.ready, "ready_for_pickup"),
        ):
            if t is not None:
                steps.append((t, status))
        if o.shipments:
            parcel = o.shipments[0]
            steps.append((parcel.created, "handed_to_carrier"))
            for status in ("in_transit", "out_for_delivery"):
                t = next((s[0] for s in parcel.scans if s[1] == status), None)
                if t is not None:
                    steps.append((t, status))
            if o.arrived_at() is not None:
                steps.append((o.arrived_at(), "delivered"))
        for t, status in (
            (o.collected, "collected"),
            (o.cancel, "cancelled"),
            (o.ret_request, "return_requested"),
            (o.ret_done, "returned"),
        ):
            if t is not None:
                steps.append((t, status))
        returned = [r[0] for r in o.refunds if r[3] == "return"]
        if returned:
            steps.append((returned[0], "refunded"))
        steps.sort(key=lambda step: (step[0], RANK[step[1]]))
        return steps
