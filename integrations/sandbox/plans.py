"""Lifecycle plans: when each step of an order happens, normally and when it breaks.

Every duration of a *normal* order stays inside the product's default thresholds
(ERP within 20 min, a preparer within 90 min, a carrier scan at least every 30 h,
refunds within 3 days of a return, delivery before the promise), so a normal order
never raises a flag at any clock. A *broken* order is placed at a time chosen so
that, at the world's initial clock, exactly its own flag holds: its promise is
still ahead unless the breakdown is the missed promise itself, the last scan of a
stuck parcel is more than 48 h old, and so on. Later clocks let conditions evolve
(an at-risk promise becomes a missed one).
"""

from __future__ import annotations

from .catalog import CARRIERS, DELIVERY_CARRIER, FAILURE_SCANS, SHIP_CARRIERS, SHIPPING
from .model import DAY, HOUR, MINUTE, Order, Shipment, local_offset

WINDOW = 30 * DAY
PROMISE = {"standard": 7 * DAY, "express": 4 * DAY, "pickup": 2 * DAY}
SLOTS = (8, 12, 16)  # local start hours of 4-hour delivery windows
SLOT_LENGTH = 4 * HOUR


class Planner:
    """Fills an :class:`Order`'s times; ``now0`` is the world's initial clock."""

    def __init__(self, rng, now0: int, warehouse, destinations):
        self.rng = rng
        self.random = rng.random
        self.now0 = now0
        self.warehouse = warehouse
        self.destinations = destinations  # person idx -> (city, state, zip)

    def u(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low))

    # --- building blocks ----------------------------------------------------------
    def _prep(self, o: Order) -> None:
        """ERP entry and a preparer, relative to ``placed`` = 0."""
        o.erp = self.u(2 * MINUTE, 20 * MINUTE)
        o.assign = o.erp + self.u(10 * MINUTE, 90 * MINUTE)

    def _parcel(self, o, start, hops, ending="delivered", carrier=None, until=None):
        """Carrier scans from ``start``; every gap stays under 30 h.

        ``ending``: "delivered", "stuck" (stop after the hops) or "exception".
        ``until``: keep scanning in transit until this time before going out for delivery.
        """
        carrier = carrier or SHIP_CARRIERS[int(self.random() * len(SHIP_CARRIERS))]
        _, services, hubs = CARRIERS[carrier]
        dest = self.destinations(o)
        origin = (self.warehouse.city, self.warehouse.state, self.warehouse.zip)
        scans = [
            (
                start,
                "pre_transit",
                "status_update",
                "Shipping label created, carrier notified",
                origin,
            )
        ]
        t = start + self.u(4 * HOUR, 12 * HOUR)
        scans.append((t, "in_transit", "arrived_at_facility", "Arrived at origin facility", hubs[0]))
        for hop in range(hops):
            t += self.u(8 * HOUR, 30 * HOUR)
            hub = hubs[1 + hop % (len(hubs) - 1)]
            scans.append((t, "in_transit", "departed_facility", "Departed facility", hub))
        while until is not None and t < until:
            t += self.u(8 * HOUR, 20 * HOUR)
            scans.append((t, "in_transit", "arrived_at_facility", "Arrived at regional facility", hubs[-1]))
        if ending == "stuck":
            planned = t + 2 * DAY
        elif ending == "exception":
            t += self.u(6 * HOUR, 30 * HOUR)
            status, detail, message = FAILURE_SCANS[int(self.random() * len(FAILURE_SCANS))]
            scans.append((t, status, detail, message, dest))
            planned = t + DAY
        else:
            t += self.u(6 * HOUR, 30 * HOUR)
            scans.append((t, "out_for_delivery", "out_for_delivery", "Out for delivery", dest))
            t += self.u(1 * HOUR, 8 * HOUR)
            scans.append((t, "delivered", "arrived_at_destination", "Delivered, left at front door", dest))
            planned = t
        est = (planned // HOUR + 1) * HOUR
        return Shipment(o, start, carrier, services[int(self.random() * len(services))], scans, est)

    def _ship_flow(self, o: Order, hops=None, ending="delivered") -> Shipment:
        self._prep(o)
        o.pick = o.assign + self.u(30 * MINUTE, 6 * HOUR)
        o.pack = o.pick + self.u(20 * MINUTE, 90 * MINUTE)
        o.done = o.pack + self.u(1 * HOUR, 12 * HOUR)
        o.sched = [(o.erp, o.erp + DAY)]
        if hops is None:
            hops = 0 if o.shipping_code == "express" else 1 + int(self.random() * 2)
        parcel = self._parcel(o, o.done, hops, ending)
        o.shipments = [parcel]
        return parcel

    def _return(self, o: Order, delivered: int, refund: bool = True) -> None:
        o.ret_request = delivered + self.u(1 * DAY, 4 * DAY)
        o.ret_done = o.ret_request + self.u(2 * DAY, 5 * DAY)
        if self.random() < 0.5 or len(o.lines) == 1:
            o.ret_lines = [(n, q) for n, (_, q, _) in enumerate(o.lines)]
        else:
            o.ret_lines = [(0, o.lines[0][1])]
        if refund:
            cents = sum(o.lines[n][2] * q for n, q in o.ret_lines)
            o.refunds.append((o.ret_done + self.u(1 * DAY, 3 * DAY), cents, list(o.ret_lines), "return"))

    def _cancel(self, o: Order, refund: bool = True) -> None:
        """Cancel before anything leaves the shelf: drop every later step."""
        cancel = o.erp + self.u(5 * MINUTE, 50 * MINUTE)
        if o.pick is not None:
            cancel = min(cancel, o.pick - MINUTE)
        o.cancel = cancel
        if o.assign is not None and o.assign >= cancel:
            o.assign = None
        o.pick = o.pack = o.done = o.ready = o.collected = None
        o.shipments = []
        o.sched = [s for s in o.sched if s[0] < cancel]
        if refund:
            o.refunds = [(cancel, o.captured, [(n, q) for n, (_, q, _) in enumerate(o.lines)], "cancel")]

    def _window(self, t: int, days: int, slot: int) -> tuple[int, int]:
        zone = self.warehouse.timezone
        day = t + days * DAY
        offset = local_offset(day, zone)
        midnight = (day + offset) // DAY * DAY - offset
        start = midnight + SLOTS[slot] * HOUR
        return start, start + SLOT_LENGTH

    def _deliver_in(self, o: Order, start: int) -> Shipment:
        """Load the van before ``start``; deliver inside the 4-hour window."""
        o.done = start - self.u(1 * HOUR, 2 * HOUR)
        _, services, _ = CARRIERS[DELIVERY_CARRIER]
        dest = self.destinations(o)
        origin = (self.warehouse.city, self.warehouse.state, self.warehouse.zip)
        ofd = start + self.u(0, 1 * HOUR)
        delivered = ofd + self.u(30 * MINUTE, SLOT_LENGTH - (ofd - start) - 15 * MINUTE)
        scans = [
            (o.done, "pre_transit", "status_update", "Loaded for scheduled delivery", origin),
            (ofd, "out_for_delivery", "out_for_delivery", "Out for delivery", dest),
            (delivered, "delivered", "arrived_at_destination", "Delivered and installed", dest),
        ]
        return Shipment(o, o.done, DELIVERY_CARRIER, services[1], scans, start + SLOT_LENGTH)

    # --- normal orders (absolute times from o.placed) ---------------------------------
    def normal(self, o: Order, returns: float, cancels: float) -> None:
        if o.kind == "carry_out":
            return
        placed = o.placed
        cancel = self.random() < cancels
        if o.kind == "delivery":
            self._prep(o)
            self._shift(o, placed)
            o.window = self._window(placed, 2 + int(self.random() * 5), int(self.random() * 3))
            o.promised = o.window[1]
            o.pick = o.window[0] - self.u(20 * HOUR, 30 * HOUR)
            o.pack = o.pick + self.u(20 * MINUTE, 60 * MINUTE)
            o.sched = [(o.erp, o.window[0])]
            o.shipments = [self._deliver_in(o, o.window[0])]
        elif o.kind == "pickup":
            self._pickup_flow(o)
            self._shift(o, placed)
        else:
            parcel = self._ship_flow(o)
            o.promised = PROMISE[o.shipping_code]
            self._shift(o, placed)
            if not cancel and self.random() < returns:
                self._return(o, parcel.scans[-1][0])
        if cancel:
            self._cancel(o)

    def _pickup_flow(self, o: Order) -> None:
        self._prep(o)
        o.sq = o.erp
        o.pick = o.assign + self.u(20 * MINUTE, 4 * HOUR)
        o.ready = o.done = o.pick + self.u(10 * MINUTE, 60 * MINUTE)
        o.collected = o.ready + self.u(1 * HOUR, 30 * HOUR)
        o.sched = [(o.erp, o.erp + 4 * HOUR)]
        o.promised = PROMISE["pickup"]

    def _shift(self, o: Order, base: int) -> None:
        """Turn the times of a plan built around ``placed`` = 0 into absolute ones."""
        for name in (
            "erp",
            "sq",
            "assign",
            "pick",
            "pack",
            "ready",
            "collected",
            "done",
            "cancel",
            "ret_request",
            "ret_done",
            "promised",
        ):
            value = getattr(o, name)
            if value is not None:
                setattr(o, name, value + base)
        if o.window is not None:
            o.window = (o.window[0] + base, o.window[1] + base)
        o.sched = [(t + base, v + base) for t, v in o.sched]
        o.refunds = [(t + base, c, lines, k) for t, c, lines, k in o.refunds]
        for parcel in o.shipments:
            parcel.created += base
            parcel.est_delivery += base
            parcel.scans = [(t + base, *rest) for t, *rest in parcel.scans]
            parcel.scan_times = [s[0] for s in parcel.scans]
        o.placed = base

    def _place(self, o: Order, youngest: int, oldest: int) -> None:
        """Place the plan so its age at the initial clock lies in [youngest, oldest]."""
        oldest = min(oldest, WINDOW)
        youngest = min(youngest, oldest)
        self._shift(o, self.now0 - self.u(youngest, oldest + 1))

    def _standard(self, o: Order) -> None:
        o.shipping_code = "standard"
        o.shipping_cents = SHIPPING["standard"][1]
        o.total = o.captured = sum(price * q for _, q, price in o.lines) + o.shipping_cents

    # --- broken orders ------------------------------------------------------------
    def broken(self, o: Order, kind: str) -> None:
        getattr(self, "_" + kind)(o)

    def _phantom_order(self, o: Order) -> None:
        if o.kind == "ship":
            self._standard(o)
        o.promised = PROMISE["pickup" if o.kind == "pickup" else "standard"]
        self._place(o, 40 * MINUTE, 40 * HOUR)

    def _unassigned(self, o: Order) -> None:
        self._prep(o)
        o.assign = None
        if o.kind == "ship":
            self._standard(o)
            o.sched = [(o.erp, o.erp + DAY)]
            o.promised = PROMISE["standard"]
        else:
            o.sq = o.erp
            o.sched = [(o.erp, o.erp + 4 * HOUR)]
            o.promised = PROMISE["pickup"]
        self._place(o, 150 * MINUTE, 40 * HOUR)

    def _stock_shortfall(self, o: Order) -> None:
        self._pickup_flow(o)
        o.pick = o.ready = o.done = o.collected = None
        self._place(o, max(o.assign + 10 * MINUTE, HOUR), 40 * HOUR)
        o.drop_at = o.placed - self.u(1 * HOUR, 6 * HOUR)

    def _stuck_shipment(self, o: Order) -> None:
        self._standard(o)
        parcel = self._ship_flow(o, hops=int(self.random() * 2), ending="stuck")
        o.promised = PROMISE["standard"]
        self._place(o, parcel.scans[-1][0] + 49 * HOUR, PROMISE["standard"] - HOUR)

    def _delivery_exception(self, o: Order) -> None:
        self._standard(o)
        parcel = self._ship_flow(o, hops=int(self.random() * 2), ending="exception")
        o.promised = PROMISE["standard"]
        self._place(o, parcel.scans[-1][0] + HOUR, PROMISE["standard"] - HOUR)

    def _promise_at_risk(self, o: Order) -> None:
        """A backorder: the ERP moves the dispatch date past the promise."""
        self._standard(o)
        self._prep(o)
        o.promised = PROMISE["standard"]
        late = o.promised + self.u(1 * DAY, 3 * DAY)
        changed = o.erp + self.u(10 * MINUTE, 60 * MINUTE)
        o.sched = [(o.erp, o.erp + DAY), (changed, late)]
        o.pick = late - self.u(4 * HOUR, 8 * HOUR)
        o.pack = o.pick + HOUR
        o.done = late
        o.shipments = [self._parcel(o, late, 0)]
        self._place(o, changed + 10 * MINUTE, PROMISE["standard"] - HOUR)

    def _promise_missed(self, o: Order) -> None:
        if o.kind == "delivery":
            self._missed_window(o)
        elif o.kind == "pickup":
            self._pickup_flow(o)
            o.ready = o.done = o.promised + self.u(2 * HOUR, 24 * HOUR)
            o.pick = o.ready - self.u(20 * MINUTE, 60 * MINUTE)
            o.collected = o.ready + self.u(1 * HOUR, 10 * HOUR)
            self._place(o, o.promised + HOUR, o.ready - 30 * MINUTE)
        else:
            self._standard(o)
            self._prep(o)
            o.promised = PROMISE["standard"]
            o.sched = [(o.erp, o.erp + DAY)]
            o.done = o.promised - self.u(10 * HOUR, 30 * HOUR)
            o.pick = o.done - self.u(4 * HOUR, 8 * HOUR)
            o.pack = o.pick + HOUR
            until = o.promised + self.u(6 * HOUR, 30 * HOUR)
            parcel = self._parcel(o, o.done, 0, until=until)
            o.shipments = [parcel]
            self._place(o, o.promised + HOUR, parcel.scans[-1][0] - HOUR)

    def _missed_window(self, o: Order) -> None:
        """The van never came: the window passed, the ERP rebooked a later one."""
        end_by = self.now0 - 2 * HOUR
        starts = [self._window(self.now0, -d, s)[0] for d in (0, 1, 2) for s in (2, 1, 0)]
        starts = [s for s in starts if s + SLOT_LENGTH <= end_by][:3]
        start = starts[int(self.random() * len(starts))]
        self._prep(o)
        self._shift(o, start - self.u(2 * DAY, 5 * DAY))
        o.window = (start, start + SLOT_LENGTH)
        o.promised = o.window[1]
        o.pick = start - self.u(20 * HOUR, 30 * HOUR)
        o.pack = o.pick + HOUR
        rebooked = start + self.u(2, 4) * DAY
        o.sched = [(o.erp, start), (o.window[1] + self.u(1 * HOUR, 4 * HOUR), rebooked)]
        o.shipments = [self._deliver_in(o, rebooked)]

    def _return_not_refunded(self, o: Order) -> None:
        parcel = self._ship_flow(o)
        o.promised = PROMISE[o.shipping_code]
        self._return(o, parcel.scans[-1][0], refund=False)
        self._place(o, o.ret_done + 7 * DAY + HOUR, WINDOW)

    def _duplicate_shipment(self, o: Order) -> None:
        parcel = self._ship_flow(o)
        o.promised = PROMISE[o.shipping_code]
        second = self._parcel(o, parcel.created + self.u(2 * HOUR, 20 * HOUR), 1)
        second.picking = None  # sent again by hand: the ERP's picking names the first parcel only
        o.shipments.append(second)
        self._place(o, second.created + 10 * MINUTE, WINDOW)

    def _payment_mismatch(self, o: Order) -> None:
        """Four ways money goes wrong; ``o.variant`` (set by the generator) names the one."""
        short = self.u(100, max(101, min(2000, o.total // 2)))
        if o.variant == "short_tender":
            o.captured = o.total - short
        elif o.variant == "under_captured":
            o.captured = o.total - short
            o.placed = self.now0 - self.u(10 * MINUTE, WINDOW)
            self.normal(o, returns=0.0, cancels=0.0)
        elif o.variant == "cancelled_not_refunded":
            if o.kind == "pickup":
                self._pickup_flow(o)
            else:
                self._ship_flow(o)
                o.promised = PROMISE[o.shipping_code]
            self._cancel(o, refund=False)
            self._place(o, o.cancel + 10 * MINUTE, WINDOW)
        else:  # refunded_twice: one return, refunded two times
            self._standard(o)
            parcel = self._ship_flow(o)
            o.promised = PROMISE["standard"]
            self._return(o, parcel.scans[-1][0], refund=False)
            o.ret_lines = [(n, q) for n, (_, q, _) in enumerate(o.lines)]
            cents = sum(price * q for _, q, price in o.lines)
            first = o.ret_done + self.u(1 * DAY, 3 * DAY)
            second = first + self.u(1 * HOUR, 2 * DAY)
            o.refunds = [(t, cents, list(o.ret_lines), "return") for t in (first, second)]
            self._place(o, second + 10 * MINUTE, WINDOW)
