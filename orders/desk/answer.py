"""The answer in one line: what to tell the customer, composed from every system.

One plain sentence per question a caller asks — was I charged, where is it, when will it
come, can I cancel, where is my refund — and the next step the retailer owes them. Built
from the order pane's facts (:func:`orders.desk.selectors.order_pane`), which read the one
standing of the order (:mod:`orders.standing`), so the card, the API's ``answer`` and the
flags never disagree. Times are on the screen's clock (one zone per card, named once): the agent's own
zone when they chose one, else the order's store's (``timezones.screen_zone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..catalogue.money import how_paid, takings, to_pay_at_counter, total
from ..models import Flag, Lifecycle, Order, Payment
from ..timezones import screen_zone

STUCK_AFTER = timedelta(hours=48)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STAGE_WORDS = {
    Lifecycle.IN_ERP: "in the warehouse system, nobody preparing it yet",
    Lifecycle.ASSIGNED: "being prepared",
    Lifecycle.PICKED: "picked, being packed",
    Lifecycle.PACKED: "packed, waiting for the carrier",
}
# The next step the retailer owes the customer, by open flag: the most pressing first.
NEXT_STEPS = (
    ("delivery_exception", "Tell them {carrier} could not deliver it; confirm the address and offer a redelivery or a refund."),
    ("stuck_shipment", "Tell them we are asking {carrier} to trace the parcel; offer a replacement if it has not moved in 2 days."),
    ("promise_missed", "Apologise: it is late. Give the new date{projected_words} and offer the late-delivery options."),
    ("return_not_refunded", "Their refund is overdue: we have had the return since {received}. Escalate the refund today."),
    ("duplicate_shipment", "Two parcels were sent for the same items: ask them to keep the second one for a free return."),
    ("stock_shortfall", "An item is not on the shelf: offer to wait for it, swap it, or refund that item."),
    ("promise_at_risk", "Warn them it may arrive after the promised {promised}{projected_words}."),
    ("payment_mismatch", "The charge does not match the order: check it with a supervisor before promising anything about money."),
    ("phantom_order", "The warehouse system does not have the order yet: escalate to fulfilment and do not promise a date."),
    ("unassigned", "Nobody is preparing it yet: escalate to the {place} before promising a date."),
)  # fmt: skip
FLAG_LABELS = {
    "phantom_order": "Not in the warehouse system",
    "unassigned": "Nobody preparing it",
    "stock_shortfall": "Item not on the shelf",
    "stuck_shipment": "Parcel stuck",
    "delivery_exception": "Delivery problem",
    "promise_at_risk": "May arrive late",
    "promise_missed": "Late",
    "return_not_refunded": "Refund overdue",
    "duplicate_shipment": "Sent twice",
    "payment_mismatch": "Charge does not match",
}
CALLER_FACING = frozenset(
    {"stuck_shipment", "delivery_exception", "promise_at_risk", "promise_missed", "return_not_refunded"}
)


@dataclass(frozen=True)
class Clause:
    """One sentence of the answer: which question it answers, its evidence's system, anchor and time."""

    topic: str  # charged, where, when, cancel, refund
    text: str
    source: str
    at: datetime | None
    anchor: str  # the pane's section that holds the evidence


@dataclass(frozen=True)
class Answer:
    clauses: list[Clause]
    next_step: str
    message_code: str | None  # the flag whose ready-made message fits the next step
    zone: str

    @property
    def summary(self) -> str:
        return " ".join(c.text for c in self.clauses)


CURRENCIES = {"USD": ("$", 2), "CAD": ("CA$", 2), "AUD": ("A$", 2), "EUR": ("€", 2), "GBP": ("£", 2), "JPY": ("¥", 0)}


def money(amount, currency: str = "USD") -> str:
    """``Decimal('283.590000')`` → ``$283.59``: the currency's minor units with its symbol (its code when unknown)."""
    if amount is None:
        return "—"
    symbol, places = CURRENCIES.get(currency, ("", 2))
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places))
    sign, value = ("-", -value) if value < 0 else ("", value)
    return f"{sign}{symbol}{value:,}" if symbol else f"{sign}{value:,} {currency}"


def day(moment: datetime, zone) -> str:
    """``Tue 24 Nov``: the day the customer will recognise."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def span(delta: timedelta) -> str:
    """``4 days``, ``5 hours``, ``40 minutes``."""
    if delta >= timedelta(days=2):
        return f"{delta.days} days"
    hours = int(delta.total_seconds() // 3600)
    if hours >= 2:
        return f"{hours} hours"
    return f"{max(1, int(delta.total_seconds() // 60))} minutes"


def order_answer(pane: dict, *, now: datetime) -> Answer:
    """The card for one order, from its pane (``orders.desk.selectors.order_pane``) at ``now``."""
    order: Order = pane["order"]
    zone = screen_zone(order.store)
    clauses = [
        _charged(order, pane["payments"], zone),
        _where(order, pane, zone, now),
        _when(order, pane, zone),
        _cancel_and_refund(order, pane, zone),
    ]
    clauses = [c for c in clauses if c is not None]
    step, code = _next_step(order, pane, zone)
    return Answer(clauses, step, code, zone.key if hasattr(zone, "key") else str(zone))


def _charged(order: Order, payments: list[Payment], zone) -> Clause:
    """Was I charged: money taken, else a bank transfer on its way, a hold, a payment that failed, or nothing."""
    m = takings(payments, order.total)
    pending = min(m.amount_pending, m.due(order.total))  # a manual payment pending for more than is left to pay
    if m.taken:
        first = min(m.taken, key=lambda p: (p.processed_at or order.placed_at, p.pk))
        taken = m.amount_taken
        text = f"Paid {money(taken, order.currency)}{_on(first, zone)}{_how(first)}"
        if pending:
            text += f", and {money(pending, order.currency)} pending{_how(m.pending[0])}"
        if taken + pending != order.total:
            text += f", of an order total of {money(order.total, order.currency)}"
        return Clause("charged", text + ".", first.source.name, first.processed_at, "payments")
    if pending:  # a bank transfer takes days to settle: the customer has paid, the money is not here yet
        first = min(m.pending, key=lambda p: (p.processed_at or order.placed_at, p.pk))
        since = f" since {day(first.processed_at, zone)}" if first.processed_at else ""
        text = f"{money(pending, order.currency)} payment pending{since}{_how(first)}: not received yet"
        text += ", due before it is handed over." if to_pay_at_counter(order, m) else "."
        return Clause("charged", text, first.source.name, first.processed_at, "payments")
    if m.held:  # a void releases an authorisation (Shopify's void names it as its parent; the amounts say as much)
        first = m.held[0]
        authorised = total(m.held)
        if m.voided >= authorised:
            text = f"{money(authorised, order.currency)} authorisation voided{_how(first)}; nothing was charged."
        else:
            text = f"{money(authorised - m.voided, order.currency)} authorised{_how(first)}, not charged yet."
        return Clause("charged", text, first.source.name, first.processed_at, "payments")
    if m.failed:
        last = max(m.failed, key=lambda p: (p.processed_at or order.placed_at, p.pk))
        text = (
            f"Payment of {money(last.amount, order.currency)} failed{_on(last, zone)}{_how(last)}; nothing was charged."
        )
        return Clause("charged", text, last.source.name, last.processed_at, "payments")
    source = order.origin_source.name if order.origin_source else ""
    return Clause("charged", "No charge recorded in any system.", source, None, "payments")


def _on(payment: Payment, zone) -> str:
    return f" on {day(payment.processed_at, zone)}" if payment.processed_at else ""


def _how(payment: Payment) -> str:
    how = how_paid(payment)
    return f" ({how})" if how else ""


def _latest_scan(parcel):
    return parcel.scan_rows[-1] if parcel.scan_rows else None  # the pane's (selectors.Scan), oldest first


def _carrier(parcel) -> str:
    return parcel.carrier or "the carrier"


def _where(order: Order, pane: dict, zone, now: datetime) -> Clause | None:
    standing, status = pane["standing"], pane["standing"].status
    parcels = pane["shipments"]
    if status == Lifecycle.CANCELLED:
        at = order.cancelled_at
        text = f"Cancelled{f' on {day(at, zone)}' if at else ''}."
        return Clause("where", text, order.origin_source.name if order.origin_source else "", at, "timeline")
    if order.fulfilment == Order.Fulfilment.CARRY_OUT:
        where = f" at {order.store.name}" if order.store else ""
        at = order.placed_at
        return Clause("where", f"Bought in store{where} on {day(at, zone)}.", _origin(order), at, "lines")
    if status == Lifecycle.COLLECTED:
        return Clause("where", f"Collected in store{_at_store(order)}.", _origin(order), None, "timeline")
    if status == Lifecycle.READY_FOR_PICKUP:
        return Clause("where", f"Ready for pickup{_at_store(order)}.", _origin(order), None, "timeline")
    if status in (Lifecycle.RETURN_REQUESTED, Lifecycle.RETURNED, Lifecycle.REFUNDED):
        received = [r for r in pane["returns"] if r.received_at]
        if received:
            r = received[0]
            return Clause(
                "where",
                f"Returned: {r.system} received it on {day(r.received_at, zone)}.",
                r.system,
                r.received_at,
                "returns",
            )
        if status == Lifecycle.REFUNDED and not standing.dispatched:
            return Clause("where", "Refunded before anything was sent.", _origin(order), None, "payments")
        return Clause("where", "A return has been requested.", _origin(order), None, "returns")  # fmt: skip
    if not parcels:
        if status in (Lifecycle.PLACED, Lifecycle.PAID):
            return Clause("where", "Not in the warehouse system yet.", _origin(order), order.placed_at, "presence")
        stage = STAGE_WORDS.get(status, standing.label.lower())
        not_yet = "Not ready for pickup yet" if order.fulfilment == Order.Fulfilment.PICKUP else "Not dispatched yet"
        return Clause("where", f"{not_yet}: {stage}.", _system_of_stage(pane), None, "presence")
    parcel = _main_parcel(parcels)
    scan = _latest_scan(parcel)
    system = parcel.source.name
    if standing.part_delivered is not None and _delivered(parcel):
        return _part_delivered(parcel, standing, scan, zone)
    if status == Lifecycle.DELIVERED:
        at = parcel.delivered_at or (scan.occurred_at if scan else None)
        return Clause("where", f"Delivered{f' on {day(at, zone)}' if at else ''} ({_carrier(parcel)}).", system, at, "shipments")  # fmt: skip
    left = f"Left the warehouse on {day(parcel.shipped_at, zone)}; " if parcel.shipped_at else ""
    if scan is None:
        return Clause(
            "where", _sentence(f"{left}{_carrier(parcel)} has not scanned it yet."), system, None, "shipments"
        )
    place = f"{scan.location}, " if scan.location else ""
    what = scan.message or scan.status
    if standing.problem is not None:
        verb = "is sending it back" if status == Lifecycle.RETURNING else "reports a problem"
        text = f"{left}{_carrier(parcel)} {verb}: {what} ({place}{day(scan.occurred_at, zone)})."
    elif now - scan.occurred_at > STUCK_AFTER:
        text = f"{left}{_carrier(parcel)} has had no scan for {span(now - scan.occurred_at)} (last: {place}{day(scan.occurred_at, zone)})."
    else:
        text = f"{left}{_carrier(parcel)}: {what} ({place}{day(scan.occurred_at, zone)})."  # fmt: skip
    return Clause("where", _sentence(text), system, scan.occurred_at, "shipments")


def _sentence(text: str) -> str:
    """``text`` with its first letter upper case and the rest as written (carrier names, days, places keep theirs)."""
    return text[:1].upper() + text[1:]


def _delivered(parcel) -> bool:
    return parcel.delivered_at is not None or parcel.status == Lifecycle.DELIVERED


def _part_delivered(parcel, standing, scan, zone) -> Clause:
    """One parcel delivered, the rest still to go out (an open ERP picking, lines the storefront never sent) or on its
    way (another package of the same picking)."""
    at = parcel.delivered_at or (scan.occurred_at if scan else None)
    pickings = [f"{system} {name}" for system, name in standing.unsent if name]
    if pickings:
        rest = f"the rest has not left the warehouse yet ({', '.join(pickings)})"
    elif not standing.unsent:
        rest = f"the rest is on its way ({', '.join(standing.on_the_way)})"
    else:
        rest = f"the rest has not been sent yet ({', '.join(s for s, _ in standing.unsent)} lists it unfulfilled)"
    text = f"Part delivered{f' on {day(at, zone)}' if at else ''} ({_carrier(parcel)}); {rest}."
    return Clause("where", text, parcel.source.name, at, "shipments")


def _when(order: Order, pane: dict, zone) -> Clause | None:
    standing = pane["standing"]
    if standing.status in (
        Lifecycle.CANCELLED, Lifecycle.DELIVERED, Lifecycle.COLLECTED, Lifecycle.RETURN_REQUESTED,
        Lifecycle.RETURNED, Lifecycle.REFUNDED,
    ) or order.fulfilment == Order.Fulfilment.CARRY_OUT:  # fmt: skip
        return None
    projected, late = pane["projected"], pane["late"]
    if standing.problem is not None:
        return Clause("when", "No delivery date while the carrier has a problem.", standing.problem.system, None, "shipments")  # fmt: skip
    if (
        late is not None
        and order.promised_by
        and order.promised_by <= (projected.at if projected else order.promised_by)
    ):
        return Clause("when", f"Was due {day(order.promised_by, zone)} — {span(late)} late.", _origin(order), order.promised_by, "presence")  # fmt: skip
    if late is not None and projected is not None:
        return Clause("when", f"Was expected {day(projected.at, zone)} — {span(late)} late.", projected.system, projected.at, "shipments")  # fmt: skip
    if projected is None:
        return None
    whose = {"estimates": "carrier estimate", "books": "delivery window", "schedules": "new warehouse date"}
    why = whose.get(projected.kind)
    promise = ""
    if order.promised_by and projected.kind != "promised" and projected.at > order.promised_by:
        promise = f", after the promised {day(order.promised_by, zone)}"
    text = f"Expected {day(projected.at, zone)}{f' ({why}{promise})' if why else ''}."
    return Clause("when", text, projected.system or _origin(order), projected.at, "shipments" if why else "presence")


def _cancel_and_refund(order: Order, pane: dict, zone) -> Clause:
    refunds = takings(pane["payments"]).refunds
    refunded = total(refunds)
    if pane["cancellable"]:
        first = "Can still be cancelled: nothing has left the warehouse"
    else:
        first = f"Can't be cancelled ({pane['cannot_cancel']})"
    if refunds:
        last = max(refunds, key=lambda p: (p.processed_at or order.placed_at, p.pk))
        when = f" on {day(last.processed_at, zone)}" if last.processed_at else ""
        second = f"{money(refunded, order.currency)} refunded{when}"
        source, at = last.source.name, last.processed_at
    else:
        second, source, at = "nothing refunded yet", _origin(order), None
    return Clause("cancel", f"{first}; {second}.", source, at, "payments")


def _next_step(order: Order, pane: dict, zone) -> tuple[str, str | None]:
    open_codes = {f.code: f for f in pane["flags"] if f.closed_at is None}
    parcel = _main_parcel(pane["shipments"]) if pane["shipments"] else None
    projected = pane["projected"]
    received = next((r.received_at for r in pane["returns"] if r.received_at), None)
    words = {
        "carrier": _carrier(parcel) if parcel else "the carrier",
        "projected_words": f" ({day(projected.at, zone)})" if projected and projected.kind != "promised" else "",
        "promised": day(order.promised_by, zone) if order.promised_by else "date",
        "received": day(received, zone) if received else "some time",
        "place": "store" if order.fulfilment == Order.Fulfilment.PICKUP else "warehouse",
    }
    for code, text in NEXT_STEPS:
        if code in open_codes:
            return text.format(**words), code if code in CALLER_FACING else None
    return "Nothing is owed to them: answer their question from the lines above.", None


def _main_parcel(parcels):
    """The parcel the customer asks about: the latest one sent."""
    return max(parcels, key=lambda p: (p.shipped_at or p.last_event_at or EPOCH, p.pk))


def _origin(order: Order) -> str:
    return order.origin_source.name if order.origin_source else ""


def _at_store(order: Order) -> str:
    return f" at {order.store.name}" if order.store else ""


def _system_of_stage(pane: dict) -> str:
    erp = [p.source.name for p in pane["presence"] if p.record is not None and p.source.kind == "erp"]
    return erp[0] if erp else ""


def flag_label(code: str) -> str:
    """The words a customer could hear for a flag code (``stuck_shipment`` → "Parcel stuck")."""
    return FLAG_LABELS.get(code, Flag.Code(code).label if code in Flag.Code.values else code)
