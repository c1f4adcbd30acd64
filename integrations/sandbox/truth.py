"""Ground truth: what every order is, where it stands and which flags it should carry.

The flag conditions below are the product's, read from the world's own plan rather
than from any vendor payload, so a test can compare what OmniDesk concluded from
the five APIs with what really happened:

- ``phantom_order``: a web order older than the grace period that neither the ERP nor
  (for a pickup) the POS knows, and that is not cancelled.
- ``unassigned``: in the ERP longer than the threshold, not cancelled, not dispatched,
  and its picking still has no ``user_id``.
- ``stock_shortfall``: an open pickup (not collected, not cancelled) with a line whose
  on-hand count at the pickup store is below the ordered quantity.
- ``stuck_shipment``: a parcel still moving (pre_transit, in_transit, out_for_delivery)
  whose last carrier scan is older than the threshold (a tracker the carrier never scanned
  counts from the hand-over, the picking's ``date_done``: the varied world's ``never_scanned``
  trackers have no tracking detail at all, the plan's one scan is that hand-over).
- ``delivery_exception``: a parcel whose carrier status is failure, return_to_sender or error.
- ``promise_at_risk`` / ``promise_missed``: for an order with a promise, not cancelled
  and not yet fulfilled (delivered; for a pickup, ready for pickup): missed once the
  promise has passed, at risk while it is ahead but the ERP's scheduled_date is later.
  An order is delivered only when nothing is still to go out (no ERP picking open, the
  storefront not partly fulfilled) and every line has arrived: the first moment the delivered
  parcels carry every line (``Order.arrived_at``). Packages of one picking and a backorder's
  parcel each carry some lines, all of which must arrive; a duplicate or a replacement carries
  them all again, so the first of those delivered keeps the promise. A line left in a backorder
  that never leaves (varied ``partial_fulfilment``) never arrives: that order is never delivered.
- ``return_not_refunded``: the return receipt was done longer than the threshold ago
  and no refund for it has been issued.
- ``duplicate_shipment``: two or more live parcels carrying a same order line (a parcel in a
  carrier exception, returning to sender or failed, is not live; packages of one picking and a
  backorder's parcel carry other lines).
- ``payment_mismatch``: captured differs from the total, or refunded exceeds captured,
  or cancelled with money captured and nothing refunded. A bank transfer (ACH) is captured
  once it settled COMPLETED: while PENDING, and for good once FAILED, nothing was taken. A pickup paid in
  store (varied ``pay_in_store``) is captured once the shop marked it paid; until it is collected, the
  money it owes is due at the counter, not out of line.

Every age comparison is strict: "older than the threshold".

Who is whom: each person's records in the four systems that keep customers, grouped the
way a careful service desk would link them without asking anyone (``customers``): the same
loyalty id, a key both systems vouch for (a verified storefront e-mail, a POS customer
record's e-mail and phone), or e-mail and phone both agreeing. A guest order that shares
only one key with anything its person has is a customer of its own (``own_customer``).
"""

from __future__ import annotations

from .model import EXCEPTION_STATUSES, FLAGS, MOVING_STATUSES, Order, iso_z

THRESHOLDS = {
    "phantom_grace_seconds": 30 * 60,
    "unassigned_seconds": 2 * 3600,
    "stuck_seconds": 48 * 3600,
    "return_refund_seconds": 7 * 86400,
}


def fulfilled_at(o: Order) -> int | None:
    """When the promise was kept: ready for pickup, or every line delivered."""
    return o.ready if o.kind == "pickup" else o.arrived_at()


def duplicated(o: Order, now: int) -> bool:
    """Two live parcels (handed over, not in a carrier exception) carry a same line."""
    live = [p for p in o.shipments if (scan := p.status_at(now)) is not None and scan[1] not in EXCEPTION_STATUSES]
    return any(
        any(first.carries(n) and second.carries(n) for n in range(len(o.lines)))
        for i, first in enumerate(live)
        for second in live[i + 1 :]
    )


def _by(t: int | None, now: int) -> bool:
    """Has the step planned at ``t`` happened by ``now``?"""
    return t is not None and t <= now


def order_flags(world, o: Order, now: int) -> list[str]:
    th = world.thresholds
    cancelled = _by(o.cancel, now)
    in_erp = _by(o.erp, now)
    scans = [scan for scan in (parcel.status_at(now) for parcel in o.shipments) if scan is not None]
    kept = fulfilled_at(o)
    open_promise = o.promised is not None and not cancelled and not _by(kept, now)
    scheduled = o.sched_at(now) if in_erp else None
    refunded = o.refunded_cents(now)
    captured = o.captured_at(now)
    conditions = {
        "phantom_order": o.channel == "web"
        and not cancelled
        and not in_erp
        and not _by(o.sq, now)
        and now - o.placed > th["phantom_grace_seconds"],
        "unassigned": in_erp
        and not cancelled
        and not _by(o.assign, now)
        and not _by(o.done, now)
        and now - o.erp > th["unassigned_seconds"],
        "stock_shortfall": o.kind == "pickup"
        and not cancelled
        and not _by(o.collected, now)
        and any(world.stock_at(o.store, p, now) < q for p, q, _ in o.lines),
        "stuck_shipment": any(scan[1] in MOVING_STATUSES and now - scan[0] > th["stuck_seconds"] for scan in scans),
        "delivery_exception": any(scan[1] in EXCEPTION_STATUSES for scan in scans),
        "promise_at_risk": open_promise and o.promised >= now and scheduled is not None and scheduled > o.promised,
        "promise_missed": open_promise and o.promised < now,
        "return_not_refunded": o.ret_done is not None
        and now - o.ret_done > th["return_refund_seconds"]
        and not any(t <= now and kind == "return" for t, _, _, kind in o.refunds),
        "duplicate_shipment": duplicated(o, now),
        "payment_mismatch": (captured != o.total and not (o.pay_in_store and not _by(o.collected, now)))
        or refunded > captured
        or (cancelled and captured > 0 and refunded == 0),
    }
    return [flag for flag in FLAGS if conditions[flag]]


def returned_skus(o: Order, now: int) -> list[str]:
    """The SKUs of the lines back by ``now`` (one per line): at a counter (each Square return order), or at the warehouse."""
    if o.sq_returns:
        lines = [line for r in o.sq_returns if r.at <= now for line in r.lines]
    else:
        lines = o.ret_lines if _by(o.ret_done, now) else []
    return sorted(o.lines[n][0].sku for n, _ in lines)


def measured_lines(o: Order) -> list[dict]:
    """The lines sold by measure (varied ``measured_quantity``): ``[{sku, quantity ("2.5"), unit ("ft")}]``."""
    if o.measure is None:
        return []
    n, amount, _, unit, _ = o.measure
    return [{"sku": o.lines[n][0].sku, "quantity": amount, "unit": unit}]


def order_systems(o: Order, now: int) -> dict[str, dict[str, str]]:
    systems: dict[str, dict[str, str]] = {}
    if o.channel == "web":
        systems["shopify"] = {"external_id": str(o.shopify_id), "number": o.number}
    if o.erp is not None and o.erp <= now:
        systems["odoo"] = {"external_id": str(o.so_id), "number": o.so_name}
    if o.channel == "store":
        systems["square"] = {"external_id": o.square_id, "number": o.receipt}
    elif o.sq is not None and o.sq <= now:
        systems["square"] = {"external_id": o.square_id, "number": o.number}
    if o.shipments and o.shipments[0].created <= now:
        parcel = o.shipments[0]
        systems["easypost"] = {"external_id": parcel.tracker_id, "number": parcel.code}
    return systems


def person_ids(p, now: int) -> dict[str, str]:
    ids: dict[str, str] = {}
    if p.shopify_id is not None and p.shopify_created <= now:
        ids["shopify"] = str(p.shopify_id)
    if p.square_id is not None and p.square_created <= now:
        ids["square"] = p.square_id
    if p.hubspot_id is not None and p.hubspot_versions[0] <= now:
        ids["hubspot"] = str(p.hubspot_id)
    if p.odoo_id is not None and p.odoo_created <= now:
        ids["odoo"] = str(p.odoo_id)
    return ids


# The keys each system vouches for: a POS customer record is taken at the till with the person
# there (Square creation_source DIRECTORY, as the sandbox writes it); a storefront account only
# once its e-mail is verified; a CRM contact and an ERP partner are typed by staff, a guest
# checkout by anyone.
def _vouched(p, system: str) -> set[str]:
    if system == "square":
        return {"email", "phone"}
    return {"email"} if system == "shopify" and p.shopify_verified else set()


def _linked(a: tuple[dict, set], b: tuple[dict, set]) -> bool:
    shared = {k for k, v in a[0].items() if v and b[0].get(k) == v}
    return "loyalty" in shared or bool(shared & a[1] & b[1]) or len(shared) >= 2


def _keys(p, system: str = "") -> dict:
    """The person's keys as ``system``'s record of them holds them: none where it holds a placeholder (the varied
    ``placeholder_contact``, :attr:`~.model.Person.typed`), which is nobody's key."""
    typed = p.typed.get(system, {})
    return {
        "email": "" if "email" in typed else p.email.lower(),
        "phone": "" if "phone" in typed else p.phone,
        "loyalty": p.loyalty_id,
    }


def person_customers(p, ids: dict[str, str]) -> list[list[str]]:
    """The person's records (by system) in the groups that are linked automatically."""
    groups: list[list[str]] = []
    for system in sorted(ids):
        record = (_keys(p, system), _vouched(p, system))
        joined = [g for g in groups if any(_linked(record, (_keys(p, s), _vouched(p, s))) for s in g)]
        merged = sorted({system, *(s for g in joined for s in g)})
        groups = [g for g in groups if g not in joined] + [merged]
    return sorted(groups)


def guest_alone(o, ids: dict[str, str]) -> bool:
    """A guest order sharing only one key (or none: a placeholder e-mail) with each of its person's records (with
    their other orders when they have none): its own customer."""
    keys = _keys(o.person)
    guest = ({"email": "" if "placeholder_contact" in o.vary else keys["email"], "phone": keys["phone"]}, set())
    records = [_keys(o.person, system) for system in ids] or [keys]
    return not any(_linked(guest, (record, set())) for record in records)


def build_truth(world, now: int) -> dict:
    stores = []
    for s in world.stores:
        ids = {"shopify": str(s.shopify_id)}
        if s.square_id:
            ids["square"] = s.square_id
        ids["odoo"] = str(s.odoo_warehouse_id)
        stores.append({"code": s.code, "name": s.name, "kind": s.kind, "timezone": s.timezone, "ids": ids})
    people = []
    for p in world.people:
        ids = person_ids(p, now)
        if not ids and not any(o.placed <= now for o in p.orders):
            continue
        people.append({
            "person_id": p.person_id, "name": p.name, "email": p.email, "phone": p.phone,
            "loyalty_id": p.loyalty_id, "ids": ids, "customers": person_customers(p, ids),
        })  # fmt: skip
    orders = []
    for o in world.orders:
        if o.placed > now:
            break
        orders.append({
            "order_id": o.order_id,
            "person_id": o.person.person_id if o.person is not None else None,
            "own_customer": o.guest and guest_alone(o, person_ids(o.person, now)),
            "channel": o.channel,
            "fulfilment": o.kind,
            "store": o.store.code if o.store is not None else None,
            "number": o.number,
            "placed_at": iso_z(o.placed),
            "promised_by": iso_z(o.promised) if o.promised is not None else None,
            "status": o.status_at(now),
            "systems": order_systems(o, now),
            "parcels": [p.tracker_id for p in o.shipments if p.created <= now],
            "flags": order_flags(world, o, now),
            "lines": len(o.lines),
            "units": sum(q for _, q, _ in o.lines),
            "refunds": sum(1 for r in o.refunds if r[0] <= now),
            "refunded_cents": o.refunded_cents(now),
            "returned_skus": returned_skus(o, now),
            "measured_lines": measured_lines(o),
        })  # fmt: skip
    return {
        "seed": world.seed,
        "now": iso_z(now),
        "thresholds": dict(world.thresholds),
        "stores": stores,
        "people": people,
        "orders": orders,
        "measured_stock": measured_stock(world, now),
    }


def measured_stock(world, now: int) -> list[dict]:
    """The counts of products sold by measure (varied ``measured_quantity``), as the POS counts them at the clock:
    ``[{store (code), sku, quantity ("12.5"), unit ("ft")}]``."""
    return [
        {"store": s.store.code, "sku": s.product.sku, "quantity": str(s.quantity_at(now)), "unit": s.unit}
        for s in world.stocks
        if s.unit and s.changes[0][0] <= now
    ]
