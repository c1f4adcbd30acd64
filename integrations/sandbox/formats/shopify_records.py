"""Shopify Admin REST 2025-07 resources as the API returns them: orders, customers, locations.

Times are written in the shop's zone (``2026-11-20T07:00:00-05:00``), money as strings.
The retailer conventions (pickup store in ``location_id``, promise and delivery window
in ``note_attributes``, ``loyalty:<id>`` tag) are those of docs/sandbox-conventions.md.
"""

from __future__ import annotations

from functools import lru_cache

from ..catalog import CANCEL_REASONS, CARRIERS, PAY_IN_STORE_GATEWAY, SHIPPING, SHOP_TIMEZONE
from ..model import SHOPIFY_SHIPMENT_STATUS, iso_local, iso_z, last_version

CURRENCY = "USD"


@lru_cache(maxsize=1 << 16)
def money(cents: int) -> str:
    if cents < 0:
        return "-" + money(-cents)
    return f"{cents // 100}.{cents % 100:02d}"


def t(value: int | None) -> str | None:
    return iso_local(value, SHOP_TIMEZONE) if value is not None else None


def closed_at(o, now: int) -> int | None:
    if o.cancel is not None:
        return o.cancel if o.cancel <= now else None
    done = o.collected if o.kind == "pickup" else o.arrived_at()
    return done if done is not None and done <= now else None


def _line(o, n: int, fulfilled: bool, refunded: int, cancelled: bool, removed=None) -> dict:
    product, quantity, price = removed or o.lines[n]
    return {
        "id": o.line_ids[n],
        "product_id": product.shopify_product_id,
        "variant_id": product.shopify_variant_id,
        "sku": product.sku,
        "title": product.title,
        "variant_title": product.variant,
        "name": product.name,
        "quantity": quantity,
        "current_quantity": 0 if cancelled else max(0, quantity - refunded),
        "fulfillable_quantity": 0 if fulfilled or cancelled else quantity,
        "fulfillment_status": "fulfilled" if fulfilled else None,
        "price": money(price),
        "requires_shipping": o.kind != "pickup",
    }


def _removed_lines(o, now: int) -> list[dict]:
    """The lines an order edit took off (varied ``order_edit``): Shopify keeps them, ``current_quantity`` 0."""
    out = []
    for k, (product, quantity, price) in enumerate(o.removed):
        line = _line(o, len(o.lines) + k, False, 0, False, (product, quantity, price))
        if o.edited <= now:
            line.update(current_quantity=0, fulfillable_quantity=0)
        out.append(line)
    return out


def edit_cents(o, now: int) -> int:
    """What the lines an edit took off cost, until the edit (then 0): the order's total was that much more."""
    return sum(price * q for _, q, price in o.removed) if o.edited is not None and o.edited > now else 0


def _shipped_lines(o, parcel=None) -> list[dict]:
    """A fulfilment's line items: the order's lines the parcel carries (all of them by default), all of their quantity."""
    return [
        {"id": o.line_ids[n], "sku": p.sku, "title": p.title, "quantity": q, "price": money(price)}
        for n, (p, q, price) in enumerate(o.lines)
        if parcel is None or parcel.carries(n)
    ]


def _address(person) -> dict:
    return {
        "first_name": person.first, "last_name": person.last, "name": person.name, "company": None,
        "address1": person.street, "address2": "", "city": person.city, "province": person.state,
        "province_code": person.state, "zip": person.zip, "country": "United States", "country_code": "US",
        "phone": person.phone or None,
    }  # fmt: skip


def _parcel_fulfilment(world, o, parcel, number: int, now: int) -> dict:
    shipment_status, changed = None, parcel.created
    for at, status, *_ in parcel.scans:
        if at > now:
            break
        mapped = SHOPIFY_SHIPMENT_STATUS.get(status, "failure")
        if mapped != shipment_status:
            shipment_status, changed = mapped, at
    url = CARRIERS[parcel.carrier][0].format(code=parcel.code)
    return {
        "id": parcel.fulfillment_id,
        "order_id": o.shopify_id,
        "name": f"{o.number}.{number}",
        "status": "success",
        "service": "manual",
        "created_at": t(parcel.created),
        "updated_at": t(changed),
        "location_id": world.warehouse.shopify_id,
        "tracking_company": parcel.carrier,
        "tracking_number": parcel.code,
        "tracking_numbers": [parcel.code],
        "tracking_url": url,
        "tracking_urls": [url],
        "shipment_status": shipment_status,
        "line_items": _shipped_lines(o, parcel),
    }


def _voided_fulfilment(world, o, now: int) -> dict:
    """The fulfilment of a label voided before the parcel left (varied ``voided_label``), cancelled once voided."""
    parcel = o.voided
    created, cancelled, code = parcel.created, parcel.voided, parcel.code
    url = CARRIERS[parcel.carrier][0].format(code=code)
    return {
        "id": parcel.fulfillment_id,
        "order_id": o.shopify_id,
        "name": f"{o.number}.1",
        "status": "cancelled" if cancelled <= now else "success",
        "service": "manual",
        "created_at": t(created),
        "updated_at": t(cancelled if cancelled <= now else created),
        "location_id": world.warehouse.shopify_id,
        "tracking_company": parcel.carrier,
        "tracking_number": code,
        "tracking_numbers": [code],
        "tracking_url": url,
        "tracking_urls": [url],
        "shipment_status": None,
        "line_items": _shipped_lines(o, o.shipments[0]),
    }


def _pickup_fulfilment(o, now: int) -> dict:
    collected = o.collected is not None and o.collected <= now
    ident = PICKUP_FULFILMENT_BASE + o.idx
    return {
        "id": ident,
        "order_id": o.shopify_id,
        "name": f"{o.number}.1",
        "status": "success" if collected else "open",
        "service": "manual",
        "created_at": t(o.ready),
        "updated_at": t(o.collected if collected else o.ready),
        "location_id": o.store.shopify_id,
        "tracking_company": None,
        "tracking_number": None,
        "tracking_numbers": [],
        "tracking_url": None,
        "tracking_urls": [],
        "shipment_status": "delivered" if collected else "ready_for_pickup",
        "line_items": _shipped_lines(o),
    }


FULFILLMENT_ORDER_BASE = 4_900_000_000_000
PICKUP_FULFILMENT_BASE = 4_800_000_000_000  # + the order's index
REFUND_BASE = 1_050_000_000_000  # + 1,000 × the order's index + 10 × the refund's (systems.SystemIds.number_orders)
COUNTER_FULFILMENT_BASE = 4_810_000_000_000


def fulfillment_order(world, o, now: int) -> dict:
    """The order's one fulfillment order (all its lines, from its store or the warehouse).

    ``fulfillable_quantity`` is what is left after the generated story (shipped, collected,
    cancelled) and after the counter's fulfilment; status open, in_progress, closed or cancelled.
    """
    cancelled = o.cancel is not None and o.cancel <= now
    done = o.kind == "pickup" and o.collected is not None and o.collected <= now  # a parcel sends only its lines
    counter = world.shopify_fulfilled.get(o.shopify_id)
    taken = counter["quantities"] if counter else {}
    ident = FULFILLMENT_ORDER_BASE + o.idx
    items = []
    for n, (product, quantity, _) in enumerate(o.lines):
        line_id = o.line_ids[n]
        sent = done or any(p.created <= now and p.carries(n) for p in o.shipments)
        left = 0 if sent or cancelled else max(0, quantity - taken.get(line_id, 0))
        items.append(
            {
                "id": line_id + 1,
                "fulfillment_order_id": ident,
                "quantity": quantity,
                "line_item_id": line_id,
                "inventory_item_id": product.shopify_variant_id + 1,
                "fulfillable_quantity": left,
                "variant_id": product.shopify_variant_id,
            }
        )
    left = sum(item["fulfillable_quantity"] for item in items)
    if cancelled:
        status = "cancelled"
    elif not left:
        status = "closed"
    else:
        status = "in_progress" if taken or left < sum(item["quantity"] for item in items) else "open"  # part sent
    pickup = o.kind == "pickup"
    return {
        "id": ident,
        "order_id": o.shopify_id,
        "assigned_location_id": o.store.shopify_id if pickup else world.warehouse.shopify_id,
        "request_status": "unsubmitted",
        "status": status,
        "supported_actions": ["create_fulfillment", "hold"] if status in ("open", "in_progress") else [],
        "delivery_method": {"method_type": "pick_up" if pickup else "shipping"},
        "line_items": items,
        "created_at": t(o.placed),
        "updated_at": t(counter["at"] if counter else o.placed),
    }


def counter_fulfilment(o, ident: int, quantities: dict[int, int], now: int) -> dict:
    """The fulfilment the counter POSTed: the collected quantities of each line (the pickup one, at ``now``)."""
    return {
        **_pickup_fulfilment(o, now),
        "id": ident,
        "name": f"{o.number}.{len(o.shipments) + 2}",
        "status": "success",
        "created_at": t(now),
        "updated_at": t(now),
        "shipment_status": "delivered",
        "line_items": [
            {
                "id": o.line_ids[n],
                "sku": p.sku,
                "title": p.title,
                "quantity": quantities[o.line_ids[n]],
                "price": money(price),
            }
            for n, (p, _, price) in enumerate(o.lines)
            if quantities.get(o.line_ids[n])
        ],
    }


def money_set(o, cents: int) -> dict:
    """A REST ``*_set``: the amount in the shop's money and in the money the customer shopped in."""
    return {
        "shop_money": {"amount": money(cents), "currency_code": CURRENCY},
        "presentment_money": {"amount": money(o.presented(cents)), "currency_code": presentment_currency(o)},
    }


def presentment_currency(o) -> str:
    return o.presentment[0] if o.presentment else CURRENCY


def _transaction(
    o, ident: int, kind: str, cents: int, at: int, n: int, parent: int | None, shop=True, status: str = "success"
) -> dict:
    """``shop``: in the shop's money (embedded in a refund, or asked ``in_shop_currency``), else in the customer's.
    A pickup paid in store (varied ``pay_in_store``) goes through the shop's manual gateway, with no card."""
    brand = o.card[1] or "Visa"
    out = {
        "id": ident,
        "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{ident}",
        "order_id": o.shopify_id,
        "kind": kind,
        "gateway": "shopify_payments",
        "manual_payment_gateway": False,
        "status": status,
        "message": None,
        "created_at": t(at),
        "processed_at": t(at),
        "test": False,
        "authorization": f"ch_{ident}",
        "parent_id": parent,
        "amount": money(cents if shop else o.presented(cents)),
        "currency": CURRENCY if shop else presentment_currency(o),
        "payment_id": f"{o.number}.{n}",
        "source_name": "web",
        "payment_details": {
            "credit_card_company": brand,
            "credit_card_number": f"•••• •••• •••• {o.card[2] or '4242'}",
        },
    }
    if o.pay_in_store:  # the shop's manual payment method: no card, no processor's authorisation
        message = "Marked as paid" if status == "success" else "Pending the manual payment"
        out.update(
            gateway=PAY_IN_STORE_GATEWAY,
            manual_payment_gateway=True,
            message=message,
            authorization=None,
            payment_details=None,
        )
    return out


def transactions(o, now: int, shop: bool = True) -> list[dict]:
    """The sale; for an order edited after checkout (varied ``order_edit``), the authorisation of the first total
    and, once edited, the capture of the new one (Shopify captures what the edited order comes to). Then refunds.
    ``shop``: in the shop's money (``in_shop_currency=true``), else in the money the customer shopped in. A pickup
    paid in store (varied ``pay_in_store``): its sale pending from checkout, and the sale that marked it paid."""
    if o.pay_in_store:
        out = [_transaction(o, o.txn_ids[0], "sale", o.captured, o.placed, 1, None, shop, status="pending")]
        if o.marked_paid is not None and o.marked_paid <= now:
            out.append(_transaction(o, o.txn_ids[1], "sale", o.captured, o.marked_paid, 2, None, shop))
    elif o.edited is None:
        out = [_transaction(o, o.txn_ids[0], "sale", o.captured, o.placed, 1, None, shop)]
    else:
        first = o.captured + sum(price * q for _, q, price in o.removed)
        out = [_transaction(o, o.txn_ids[0], "authorization", first, o.placed, 1, None, shop)]
        if o.edited <= now:
            out.append(_transaction(o, o.txn_ids[1], "capture", o.captured, o.edited, 2, o.txn_ids[0], shop))
    for n, (at, cents, _, _) in enumerate(o.refunds):
        if at <= now:
            out.append(_transaction(o, o.refund_ids[n][1], "refund", cents, at, n + 2, _charge_id(o), shop))
    return out


def _charge_id(o) -> int:
    """The transaction that took the money, which a refund gives back from: the sale, or an edited order's capture."""
    return o.txn_ids[0] if o.edited is None else o.txn_ids[1]


def _restock_type(o, kind: str) -> str:
    if kind != "return":
        return "cancel"
    return "no_restock" if "refund_no_restock" in o.vary else "return"  # varied: the ERP alone books the return


def _refund(world, o, n: int) -> dict:
    at, cents, lines, kind = o.refunds[n]
    refund_id, txn_id = o.refund_ids[n]
    place = o.store if o.kind == "pickup" else world.warehouse
    items = []
    for k, (line, quantity) in enumerate(lines):
        product, _, price = o.lines[line]
        items.append({
            "id": refund_id + k + 1, "line_item_id": o.line_ids[line], "location_id": place.shopify_id,
            "quantity": quantity, "restock_type": _restock_type(o, kind),
            "subtotal": round(price * quantity / 100, 2), "total_tax": 0.0,
            "line_item": {"id": o.line_ids[line], "sku": product.sku, "name": product.name, "quantity": o.lines[line][1], "price": money(price)},
        })  # fmt: skip
    lines_cents = sum(o.lines[line][2] * q for line, q in lines)
    adjustments = []
    if cents > lines_cents:
        adjustments.append(
            {
                "id": refund_id + 99,
                "order_id": o.shopify_id,
                "refund_id": refund_id,
                "amount": money(lines_cents - cents),
                "tax_amount": "0.00",
                "kind": "shipping_refund",
                "reason": "Shipping refund",
            }
        )
    return {
        "id": refund_id,
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "order_id": o.shopify_id,
        "created_at": t(at),
        "processed_at": t(at),
        "note": "Return received" if kind == "return" else "Order cancelled",
        "restock": True,
        "user_id": None,
        "refund_line_items": items,
        "transactions": [_transaction(o, txn_id, "refund", cents, at, n + 2, _charge_id(o))],
        "order_adjustments": adjustments,
    }


def render_order(world, o, now: int, updated: int) -> dict:
    person = o.person
    placed = t(o.placed)
    cancelled = o.cancel is not None and o.cancel <= now
    refunds = [n for n, r in enumerate(o.refunds) if r[0] <= now]
    refunded = sum(o.refunds[n][1] for n in refunds)
    returned = {}
    for n in refunds:
        for line, quantity in o.refunds[n][2]:
            returned[line] = returned.get(line, 0) + quantity
    voided = [_voided_fulfilment(world, o, now)] if o.voided is not None and o.voided.created <= now else []
    fulfilments = [
        _parcel_fulfilment(world, o, p, k + 1 + bool(o.voided), now)
        for k, p in enumerate(o.shipments)
        if p.created <= now
    ]
    if o.kind == "pickup" and o.ready is not None and o.ready <= now:
        fulfilments.append(_pickup_fulfilment(o, now))
    sent = {n for n in range(len(o.lines)) if any(p.created <= now and p.carries(n) for p in o.shipments)}
    shipped = bool(sent) if o.kind != "pickup" else (o.collected is not None and o.collected <= now)
    fulfilments = voided + fulfilments
    counter = world.shopify_fulfilled.get(o.shopify_id)
    if counter is not None:  # the store counter's fulfilment (POST fulfillments.json)
        fulfilments.append(counter["fulfillment"])
    taken = counter["quantities"] if counter else {}
    lines = [
        _line(o, n, (shipped and (o.kind == "pickup" or n in sent)) or taken.get(o.line_ids[n], 0) >= o.lines[n][1],
              returned.get(n, 0), cancelled)
        for n in range(len(o.lines))
    ]  # fmt: skip
    if (not shipped and taken) or (shipped and o.kind != "pickup"):
        shipped = "partial" if any(not line["fulfillment_status"] for line in lines) else True
    lines += _removed_lines(o, now)
    if refunded and refunded >= o.captured:
        financial = "refunded"
    elif refunded:
        financial = "partially_refunded"
    elif edit_cents(o, now):
        financial = "authorized"
    elif o.pay_in_store and o.captured_at(now) == 0:
        financial = "pending"
    elif o.captured < o.total:
        financial = "partially_paid"
    else:
        financial = "paid"
    notes = []
    if o.promised is not None and "erp_promise" not in o.vary:  # varied: only the ERP's commitment_date has it
        notes.append({"name": "promised_by", "value": iso_z(o.promised)})
    if o.window is not None:
        notes += [
            {"name": "delivery_window_start", "value": iso_z(o.window[0])},
            {"name": "delivery_window_end", "value": iso_z(o.window[1])},
        ]
    title = SHIPPING[o.shipping_code][0]
    total = o.total + edit_cents(o, now)
    subtotal = total - o.shipping_cents
    return {
        "id": o.shopify_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{o.shopify_id}",
        "name": o.number,
        "order_number": int(o.number[1:]),
        "number": int(o.number[1:]) - 1000,
        "email": o.email,
        "contact_email": o.email,
        "phone": person.phone or None,
        "created_at": placed,
        "processed_at": placed,
        "updated_at": t(updated),
        "cancelled_at": t(o.cancel) if cancelled else None,
        "cancel_reason": CANCEL_REASONS[o.idx % 3] if cancelled else None,
        "closed_at": t(closed_at(o, now)),
        "confirmed": True,
        "test": False,
        "source_name": "web",
        "financial_status": financial,
        "fulfillment_status": "partial" if shipped == "partial" else "fulfilled" if shipped else None,
        "currency": CURRENCY,
        "presentment_currency": presentment_currency(o),
        "total_price": money(total),
        "total_price_set": money_set(o, total),
        "subtotal_price": money(subtotal),
        "total_line_items_price": money(subtotal),
        "total_discounts": "0.00",
        "total_tax": "0.00",
        "taxes_included": True,
        "total_outstanding": money(max(0, o.total - o.captured_at(now))),
        "current_total_price": money(max(0, total - refunded)),
        "payment_gateway_names": [PAY_IN_STORE_GATEWAY if o.pay_in_store else "shopify_payments"],
        "tags": "",
        "note": None,
        "note_attributes": notes,
        "location_id": o.store.shopify_id if o.kind == "pickup" else None,
        "customer": None if o.guest else _embedded_customer(person, updated),
        "shipping_address": _address(person) if o.kind in ("ship", "delivery") else None,
        "line_items": lines,
        "shipping_lines": [
            {
                "id": o.shopify_id + 7,
                "code": o.shipping_code,
                "title": title,
                "source": "shopify",
                "price": money(o.shipping_cents),
                "discounted_price": money(o.shipping_cents),
                "carrier_identifier": None,
            }
        ],  # fmt: skip
        "fulfillments": fulfilments,
        "refunds": [_refund(world, o, n) for n in refunds],
    }


def _tags(person) -> str:
    return f"loyalty:{person.loyalty_id}" if person.loyalty_id else ""


def _embedded_customer(person, updated: int) -> dict:
    return {
        "id": person.shopify_id,
        "email": person.shopify_email,
        "first_name": person.first,
        "last_name": person.last,
        "phone": person.phone or None,
        "tags": _tags(person),
        "state": "enabled",
        "verified_email": person.shopify_verified,
        "created_at": t(person.shopify_created),
        "updated_at": t(last_version(person.shopify_versions, updated)),
    }


def render_customer(world, person, now: int, updated: int) -> dict:
    placed = [o for o in person.shopify_orders if o.placed <= updated]
    address = {
        "id": person.shopify_id + 1,
        "customer_id": person.shopify_id,
        **_address(person),
        "country_name": "United States",
        "default": True,
    }
    return {
        "id": person.shopify_id,
        "admin_graphql_api_id": f"gid://shopify/Customer/{person.shopify_id}",
        "email": person.shopify_email,
        "first_name": person.first,
        "last_name": person.last,
        "phone": person.phone or None,
        "created_at": t(person.shopify_created),
        "updated_at": t(updated),
        "orders_count": len(placed),
        "total_spent": money(sum(o.total for o in placed)),
        "last_order_id": placed[-1].shopify_id if placed else None,
        "last_order_name": placed[-1].number if placed else None,
        "state": "enabled",
        "verified_email": person.shopify_verified,
        "note": None,
        "multipass_identifier": None,
        "tax_exempt": False,
        "tags": _tags(person),
        "currency": CURRENCY,
        "addresses": [address],
        "default_address": address,
        "email_marketing_consent": {
            "state": "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": None,
        },
    }


def render_location(store, setup: int) -> dict:
    return {
        "id": store.shopify_id,
        "admin_graphql_api_id": f"gid://shopify/Location/{store.shopify_id}",
        "name": store.name,
        "address1": store.street,
        "address2": None,
        "city": store.city,
        "zip": store.zip,
        "province": store.state,
        "province_code": store.state,
        "country": "US",
        "country_code": "US",
        "country_name": "United States",
        "phone": store.phone,
        "created_at": t(setup),
        "updated_at": t(setup),
        "legacy": False,
        "active": True,
        "localized_country_name": "United States",
        "localized_province_name": store.state,
    }
