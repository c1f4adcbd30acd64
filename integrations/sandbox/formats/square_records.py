"""Square (Square-Version 2025-08-20) objects as the API returns them.

Money is ``{"amount": <cents>, "currency": "USD"}``, quantities are strings, times
RFC 3339 UTC with milliseconds; absent values are left out rather than null. In-store
sales carry tenders and a payment (card, cash, or in the varied shape a bank transfer, a
Square account or Afterpay); web pickups carry a PICKUP fulfilment, the Shopify order name
as ``reference_id`` and no tender (the money was taken online). Goods brought back to a
counter are a return order of their own (:func:`render_return_order`), as Square records them.
"""

from __future__ import annotations

from bisect import bisect_right

from ..model import SquareReturn, iso_ms_z
from . import e164_dashed

CURRENCY = "USD"
MERCHANT = "ML8XOMNIDESK01"


def money(cents: int) -> dict:
    return {"amount": cents, "currency": CURRENCY}


def order_state(o, now: int) -> str:
    if o.channel == "store":
        return "COMPLETED"
    if o.cancel is not None and o.cancel <= now:
        return "CANCELED"
    return "COMPLETED" if o.collected is not None and o.collected <= now else "OPEN"


def _version(versions: list[int], updated: int) -> int:
    return bisect_right(versions, updated)


def order_entry(world, o, now: int, updated: int) -> dict:
    return {
        "order_id": o.square_id,
        "location_id": o.store.square_id,
        "version": _version(o.square_versions, updated),
    }


def _lines(o) -> list[dict]:
    out = []
    for n, (product, quantity, price) in enumerate(o.lines):
        out.append({
            "uid": o.sq_line_uids[n], "catalog_object_id": product.square_variation_id, "catalog_version": 1,
            "quantity": str(quantity), "name": product.name, "variation_name": "Regular", "item_type": "ITEM",
            "metadata": {"sku": product.sku}, "base_price_money": money(price),
            "variation_total_price_money": money(price * quantity), "gross_sales_money": money(price * quantity),
            "total_tax_money": money(0), "total_discount_money": money(0), "total_service_charge_money": money(0),
            "total_money": money(price * quantity),
        })  # fmt: skip
    if o.measure is not None:  # varied ``measured_quantity``: the line sold by measure, its total as ever
        n, amount, unit, _, base = o.measure
        precision = len(amount.partition(".")[2])
        out[n].update(
            quantity=amount, quantity_unit={"measurement_unit": unit, "precision": precision},
            base_price_money=money(base),
        )  # fmt: skip
    return out


def _card(o) -> dict:
    return {
        "card_brand": o.card[0],
        "last_4": o.card[2],
        "exp_month": 1 + o.idx % 12,
        "exp_year": 2027 + o.idx % 4,
        "fingerprint": f"sq-1-{o.payment_id[:22]}",
        "card_type": "CREDIT",
        "prepaid_type": "NOT_PREPAID",
        "bin": "411111",
    }


def _cash(o) -> dict:
    tendered = -(-o.captured // 500) * 500
    return {
        "buyer_supplied_money": money(tendered),
        "change_back_money": money(tendered - o.captured),
    }


def _amounts(cents: int) -> dict:
    """An OrderMoneyAmounts of ``cents`` with no tax, discount, tip or service charge."""
    return {
        "total_money": money(cents), "tax_money": money(0), "discount_money": money(0), "tip_money": money(0),
        "service_charge_money": money(0),
    }  # fmt: skip


def _tender(o, now: int) -> dict:
    """The sale's tender: its ``type`` and the ``*_details`` whose ``status`` says whether it was paid."""
    tender = {
        "id": o.payment_id,
        "location_id": o.store.square_id,
        "transaction_id": o.square_id,
        "created_at": iso_ms_z(o.placed),
        "amount_money": money(o.captured),
        "payment_id": o.payment_id,
    }
    if o.tender == "BANK_ACCOUNT":  # TenderBankAccountDetails: PENDING, COMPLETED, FAILED
        tender.update(type="BANK_ACCOUNT", bank_account_details={"status": o.payment_status_at(now)})
    elif o.tender == "SQUARE_ACCOUNT":
        tender.update(type="SQUARE_ACCOUNT", square_account_details={"status": "CAPTURED"})
    elif o.tender == "BUY_NOW_PAY_LATER":
        tender.update(
            type="BUY_NOW_PAY_LATER",
            buy_now_pay_later_details={"buy_now_pay_later_brand": "AFTERPAY", "status": "CAPTURED"},
        )
    elif o.card[0]:
        tender.update(
            type="CARD",
            card_details={
                "status": "CAPTURED",
                "card": {k: v for k, v in _card(o).items() if k in ("card_brand", "last_4", "fingerprint")},
                "entry_method": "EMV",
            },
        )
    else:
        tender.update(
            type="CASH",
            cash_details={
                "buyer_tendered_money": _cash(o)["buyer_supplied_money"],
                "change_back_money": _cash(o)["change_back_money"],
            },
        )
    return tender


def render_order(world, o, now: int, updated: int) -> dict:
    if isinstance(o, SquareReturn):
        return render_return_order(o, now, updated)
    state = order_state(o, now)
    totals = {
        "total_money": money(o.total), "total_tax_money": money(0), "total_discount_money": money(0),
        "total_tip_money": money(0), "total_service_charge_money": money(0),
    }  # fmt: skip
    payload = {"id": o.square_id, "location_id": o.store.square_id}
    returned = 0
    if o.channel == "store":
        if o.person is not None and o.person.square_id:
            payload["customer_id"] = o.person.square_id
        payload.update(source={"name": "Square Point of Sale"}, line_items=_lines(o), tenders=[_tender(o, now)])
        created, closed = o.placed, o.placed
        returned = sum(r.cents for r in o.sq_returns if r.at + 1 <= now)  # rolled up a second after each return
    else:
        payload.update(
            reference_id=o.number,
            source={"name": "Shopify"},
            line_items=_lines(o),
            fulfillments=[_pickup(o, now, world.fulfillment_states.get(o.square_id))],
        )
        payload["metadata"] = {"shopify_order_id": str(o.shopify_id)}
        created = o.sq
        closed = {"COMPLETED": o.collected, "CANCELED": o.cancel}.get(state)
    if returned:
        payload["return_amounts"] = _amounts(returned)
    payload["net_amounts"] = _amounts(o.total - returned)
    payload.update(totals)
    if o.channel == "store":
        payload["net_amount_due_money"] = money(o.total - o.captured)
    payload.update(
        state=state,
        version=_version(o.square_versions, updated),
        created_at=iso_ms_z(created),
        updated_at=iso_ms_z(updated),
    )
    if closed is not None:
        payload["closed_at"] = iso_ms_z(closed)
    return payload


def render_return_order(r, now: int, updated: int) -> dict:
    """A return order: the goods of one visit to a counter, naming the sale; total 0, the refund on it."""
    o = r.order
    lines = []
    for n, quantity in r.lines:
        product, _, price = o.lines[n]
        lines.append({
            "uid": f"{r.uid[:18]}{n:04d}", "source_line_item_uid": o.sq_line_uids[n], "catalog_object_id": product.square_variation_id,
            "catalog_version": 1, "quantity": str(quantity), "name": product.name, "variation_name": "Regular",
            "item_type": "ITEM", "base_price_money": money(price), "variation_total_price_money": money(price * quantity),
            "gross_return_money": money(price * quantity), "total_tax_money": money(0), "total_discount_money": money(0),
            "total_money": money(price * quantity),
        })  # fmt: skip
    refund = {
        "id": r.refund_id, "location_id": r.store.square_id, "transaction_id": o.square_id, "tender_id": o.payment_id,
        "created_at": iso_ms_z(r.at), "reason": "Returned goods", "amount_money": money(r.cents),
        "status": "APPROVED" if r.settled <= now else "PENDING",
    }  # fmt: skip
    payload = {"id": r.square_id, "location_id": r.store.square_id, "source": {"name": "Square Point of Sale"}}
    if o.person is not None and o.person.square_id:
        payload["customer_id"] = o.person.square_id
    payload.update(
        returns=[{"uid": r.uid, "source_order_id": o.square_id, "return_line_items": lines, "return_amounts": _amounts(r.cents)}],
        return_amounts=_amounts(r.cents),
        net_amounts=_amounts(-r.cents),
        refunds=[refund],
        total_money=money(0), total_tax_money=money(0), total_discount_money=money(0), total_tip_money=money(0),
        total_service_charge_money=money(0), state="COMPLETED", version=_version(r.square_versions, updated),
        created_at=iso_ms_z(r.at), updated_at=iso_ms_z(updated), closed_at=iso_ms_z(r.at),
    )  # fmt: skip
    return payload


def _pickup(o, now: int, pushed: str | None = None) -> dict:
    state = "PROPOSED"
    details = {
        "recipient": {"display_name": o.person.name, "email_address": o.email},
        "schedule_type": "SCHEDULED",
        "pickup_at": iso_ms_z(o.sched[0][1]),
        "placed_at": iso_ms_z(o.sq),
        "note": f"Web order {o.number}",
    }
    if o.person.phone:
        details["recipient"]["phone_number"] = e164_dashed(o.person.phone)
    for at, name, field in (
        (o.assign, "RESERVED", "accepted_at"),
        (o.ready, "PREPARED", "ready_at"),
        (o.collected, "COMPLETED", "picked_up_at"),
        (o.cancel, "CANCELED", "canceled_at"),
    ):
        if at is not None and at <= now:
            state = name
            details[field] = iso_ms_z(at)
    return {
        "uid": o.square_id[:12] + "PICKUP",
        "type": "PICKUP",
        "state": pushed or state,
        "pickup_details": details,
    }


def render_payment(world, o, now: int, updated: int) -> dict:
    payload = {
        "id": o.payment_id,
        "created_at": iso_ms_z(o.placed),
        "updated_at": iso_ms_z(updated),
        "amount_money": money(o.captured),
        "approved_money": money(o.captured),
        "total_money": money(o.captured),
        "status": o.payment_status_at(now),
        "delay_duration": "PT168H",
        "delay_action": "CANCEL",
        "source_type": o.tender or ("CARD" if o.card[0] else "CASH"),
    }
    refunds = [r for r in o.sq_returns if r.at <= now]
    if refunds:  # the refunds made of it, whatever order recorded them (Payment.refund_ids, refunded_money)
        payload["refund_ids"] = [r.refund_id for r in refunds]
        payload["refunded_money"] = money(sum(r.cents for r in refunds if r.settled <= now))
    if o.tender:
        payload.update(_payment_details(o))
    elif o.card[0]:
        stamp = iso_ms_z(o.placed)
        payload["card_details"] = {
            "status": "CAPTURED", "card": _card(o), "entry_method": "EMV", "cvv_status": "CVV_NOT_CHECKED",
            "avs_status": "AVS_NOT_CHECKED", "statement_description": "SQ *OMNIDESK RETAIL",
            "card_payment_timeline": {"authorized_at": stamp, "captured_at": stamp},
        }  # fmt: skip
    else:
        payload["cash_details"] = _cash(o)
    payload["location_id"] = o.store.square_id
    payload["order_id"] = o.square_id
    if o.person is not None and o.person.square_id:
        payload["customer_id"] = o.person.square_id
    payload.update(
        receipt_number=o.receipt,
        receipt_url=f"https://squareup.com/receipt/preview/{o.payment_id}",
        application_details={
            "square_product": "SQUARE_POS",
            "application_id": "sq0idp-OmniDeskSandbox",
        },
        version_token=o.payment_id[::-1] + "o",
    )
    return payload


def _payment_details(o) -> dict:
    """A Payment's details for the tenders other than card and cash (Square's BankAccountPaymentDetails…)."""
    if o.tender == "BANK_ACCOUNT":
        return {"bank_account_details": {
            "bank_name": "Citizens Bank", "transfer_type": "ACH", "account_ownership_type": "INDIVIDUAL",
            "fingerprint": f"sq-1-{o.payment_id[:22]}", "country": "US", "statement_description": "SQ *OMNIDESK RETAIL",
            "ach_details": {"routing_number": "011401533", "account_number_suffix": f"{o.idx % 1000:03d}", "account_type": "CHECKING"},
        }}  # fmt: skip
    if o.tender == "SQUARE_ACCOUNT":
        return {"square_account_details": {"payment_source_token": f"sqtok_{o.payment_id[:20]}"}}
    afterpay = {"email_address": o.person.square_email} if o.person is not None else {}
    return {"buy_now_pay_later_details": {"brand": "AFTERPAY", "afterpay_details": afterpay}}


def render_customer(world, p, now: int, updated: int) -> dict:
    payload = {
        "id": p.square_id,
        "created_at": iso_ms_z(p.square_created),
        "updated_at": iso_ms_z(updated),
        "given_name": p.first,
        "family_name": p.last,
        "email_address": p.contact("square", "email", p.square_email),
    }
    phone = p.contact("square", "phone", e164_dashed(p.phone))
    if phone:
        payload["phone_number"] = phone
    if p.loyalty_id:
        payload["reference_id"] = p.loyalty_id
    payload.update(
        address={
            "address_line_1": p.street,
            "locality": p.city,
            "administrative_district_level_1": p.state,
            "postal_code": p.zip,
            "country": "US",
        },
        preferences={"email_unsubscribed": False},
        creation_source="DIRECTORY",  # made at the till: its e-mail and phone are vouched for (truth._vouched)
        version=1,
    )
    return payload


def render_count(world, stock, now: int, updated: int) -> dict:
    return {
        "catalog_object_id": stock.product.square_variation_id,
        "catalog_object_type": "ITEM_VARIATION",
        "state": "IN_STOCK",
        "location_id": stock.store.square_id,
        "quantity": str(stock.quantity_at(now)),
        "calculated_at": iso_ms_z(updated),
    }


def render_location(store, setup: int) -> dict:
    return {
        "id": store.square_id,
        "name": store.name,
        "address": {
            "address_line_1": store.street,
            "locality": store.city,
            "administrative_district_level_1": store.state,
            "postal_code": store.zip,
            "country": "US",
        },
        "timezone": store.timezone,
        "capabilities": ["CREDIT_CARD_PROCESSING"],
        "status": "ACTIVE",
        "created_at": iso_ms_z(setup),
        "merchant_id": MERCHANT,
        "country": "US",
        "language_code": "en-US",
        "currency": CURRENCY,
        "phone_number": e164_dashed(store.phone),
        "business_name": "OmniDesk Retail",
        "type": "PHYSICAL",
        "mcc": "5719",
    }
