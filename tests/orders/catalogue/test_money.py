"""Was I charged: one reading of an order's payments (orders/catalogue/money.py) for the card, the pane and the flags.

Square's own example order (``order_pay_completed_with_tenders``, a $20.00 till sale) is landed
through the real mapper and ingest with its tender changed to each way a real account pays.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from integrations.adapters.shopify import map_order as map_shopify_order
from integrations.adapters.square import map_order
from orders.desk.selectors import order_pane
from orders.flags.detection import DEFAULT_THRESHOLDS
from orders.flags.rules import RULES
from orders.ingest import ingest
from orders.models import Order
from tests.factories import SourceFactory
from tests.integrations.adapters.square.support import order_fixture
from tests.orders.vendor_shapes import shopify_paid_order

NOW = datetime(2019, 8, 20, 12, 0, tzinfo=UTC)  # two weeks after the example sale


@pytest.fixture
def pos(db):
    return SourceFactory(name="square", kind="pos", adapter="square")


def tender(kind: str, status: str, amount: int = 2000, tender_id: str = "TENDER0001") -> dict:
    """One tender of Square's documented shape: ``<kind>_details.status`` is its state."""
    details = {"CARD": "card_details", "BANK_ACCOUNT": "bank_account_details"}.get(kind, f"{kind.lower()}_details")
    body = {"status": status}
    if kind == "CARD":
        body["card"] = {"card_brand": "VISA", "last_4": "1111"}
    return {
        "id": tender_id,
        "payment_id": tender_id,
        "location_id": "P3CCK6HSNDAS7",
        "created_at": "2019-08-06T02:47:36.293Z",
        "amount_money": {"amount": amount, "currency": "USD"},
        "type": kind,
        details: body,
    }


def landed(pos, *tenders) -> Order:
    order = order_fixture()
    order["state"] = "OPEN"
    order["tenders"] = list(tenders)
    ingest(source=pos, records=[map_order(order)], synced_at=timezone.now())
    return Order.objects.get()


def charged(order: Order) -> str:
    with time_machine.travel(NOW, tick=False):
        pane = order_pane(order)
    return next(c.text for c in pane["answer"].clauses if c.topic == "charged")


def mismatch(order: Order):
    return RULES["payment_mismatch"]([order.pk], now=NOW, threshold=DEFAULT_THRESHOLDS.get("payment_mismatch"))


def test_a_bank_transfer_still_clearing_is_pending_on_the_card_not_no_charge(pos):
    order = landed(pos, tender("BANK_ACCOUNT", "PENDING"))

    assert charged(order) == "$20.00 payment pending since Tue 6 Aug (bank transfer): not received yet."
    assert order_pane(order)["refundable"] == Decimal(0)  # nothing taken, so nothing to give back


def test_a_failed_bank_transfer_says_it_failed(pos):
    order = landed(pos, tender("BANK_ACCOUNT", "FAILED"))

    assert charged(order) == "Payment of $20.00 failed on Tue 6 Aug (bank transfer); nothing was charged."


def test_a_failed_attempt_before_a_card_that_worked_is_paid(pos):
    order = landed(pos, tender("BANK_ACCOUNT", "FAILED", tender_id="T1"), tender("CARD", "CAPTURED", tender_id="T2"))

    assert charged(order) == "Paid $20.00 on Tue 6 Aug (Visa ••1111)."


def test_part_taken_part_still_clearing_names_both_and_the_flag_counts_only_what_was_taken(pos):
    order = landed(
        pos,
        tender("CARD", "CAPTURED", amount=1200, tender_id="T1"),
        tender("BANK_ACCOUNT", "PENDING", amount=800, tender_id="T2"),
    )

    assert charged(order) == "Paid $12.00 on Tue 6 Aug (Visa ••1111), and $8.00 pending (bank transfer)."
    assert order_pane(order)["refundable"] == Decimal("12.00")
    assert "total 20.00 USD but 12.00 captured" in mismatch(order)[order.pk].detail


@pytest.mark.parametrize(
    ("kind", "words"),
    [("SQUARE_ACCOUNT", "Square account"), ("BUY_NOW_PAY_LATER", "buy now, pay later"), ("WALLET", "digital wallet")],
)
def test_tenders_without_a_card_are_named_as_a_caller_would(pos, kind, words):
    status = "COMPLETED" if kind == "WALLET" else "CAPTURED"
    order = landed(pos, tender(kind, status))

    assert charged(order) == f"Paid $20.00 on Tue 6 Aug ({words})."


def test_a_storefront_manual_payment_awaiting_the_money_names_its_gateway_as_the_shop_wrote_it(db):
    """A Shopify manual payment method ("Bank Deposit"): the sale stays ``pending`` until the shop marks it paid."""
    shop = SourceFactory(name="shopify", kind="storefront", adapter="shopify")
    waiting = {"id": 9002, "kind": "sale", "status": "pending", "amount": "199.00", "currency": "USD",
               "gateway": "Bank Deposit", "processed_at": "2025-04-02T11:00:00-05:00"}  # fmt: skip
    payload = shopify_paid_order(financial_status="pending", transactions=[waiting])
    ingest(source=shop, records=[map_shopify_order(payload)], synced_at=timezone.now())

    assert charged(Order.objects.get()) == "$199.00 payment pending since Wed 2 Apr (Bank Deposit): not received yet."


PAY_IN_STORE = {"id": 9002, "kind": "sale", "status": "pending", "amount": "199.00", "currency": "USD",
                "gateway": "Pay in store", "manual_payment_gateway": True,
                "processed_at": "2025-04-02T11:00:00-05:00"}  # fmt: skip
MARKED_PAID = {**PAY_IN_STORE, "id": 9003, "status": "success", "processed_at": "2025-04-05T16:20:00-05:00"}


def pay_in_store(db, *transactions, collected: bool = False, **changes) -> Order:
    """A web order to collect at the store, paid for at the counter with the shop's manual "Pay in store"
    (Shopify records the sale pending at checkout; marking it paid adds a sale and leaves that one pending)."""
    shop = SourceFactory(name="shopify", kind="storefront", adapter="shopify")
    payload = shopify_paid_order(
        financial_status="paid" if any(t["status"] == "success" for t in transactions) else "pending",
        fulfillment_status="fulfilled" if collected else None,
        transactions=list(transactions),
        location_id=655441491,
        **changes,
    )
    payload["shipping_lines"][0]["code"] = "pickup"
    ingest(source=shop, records=[map_shopify_order(payload)], synced_at=timezone.now())
    return Order.objects.get()


def test_a_pickup_paid_in_store_is_due_at_the_counter_not_out_of_line(db):
    order = pay_in_store(db, PAY_IN_STORE)

    assert (order.fulfilment, order.status) == (Order.Fulfilment.PICKUP, "placed")
    assert charged(order) == (
        "$199.00 payment pending since Wed 2 Apr (Pay in store): not received yet, due before it is handed over."
    )
    assert mismatch(order) == {}


def test_a_pickup_marked_paid_was_paid_once_though_its_checkout_sale_still_says_pending(db):
    order = pay_in_store(db, PAY_IN_STORE, MARKED_PAID)

    assert charged(order) == "Paid $199.00 on Sat 5 Apr (Pay in store)."
    assert order_pane(order)["refundable"] == Decimal("199.00")
    assert mismatch(order) == {}


def test_a_pickup_handed_over_without_being_marked_paid_is_a_payment_mismatch(db):
    order = pay_in_store(db, PAY_IN_STORE, collected=True)

    assert order.status == "collected"
    assert charged(order) == "$199.00 payment pending since Wed 2 Apr (Pay in store): not received yet."
    assert mismatch(order)[order.pk].detail == (
        f"order {order.number}: total 199.00 USD but 0 captured (the storefront says pending)"
    )


def test_a_shipped_order_awaiting_a_bank_deposit_is_still_out_of_line(db):
    """Only a pickup not collected yet is paid at the counter: money owed on an order to ship is a mismatch."""
    shop = SourceFactory(name="shopify", kind="storefront", adapter="shopify")
    bank = {**PAY_IN_STORE, "gateway": "Bank Deposit"}
    ingest(
        source=shop,
        records=[map_shopify_order(shopify_paid_order(financial_status="pending", transactions=[bank]))],
        synced_at=timezone.now(),
    )
    order = Order.objects.get()

    assert order.fulfilment == Order.Fulfilment.SHIP
    assert list(mismatch(order)) == [order.pk]


def test_a_pickup_paid_online_and_still_clearing_is_not_asked_for_again_at_the_counter(db):
    """A payment sent through a processor (PayPal's eCheck, a bank transfer) that has not cleared is the customer's
    money on its way, not a "Pay in store": the clerk must not take it a second time, the card must not say it is
    due at handover, and the order stays out of line until the money arrives."""
    from orders.catalogue.money import takings, to_pay_at_counter
    from orders.counter.selectors import _to_pay

    order = pay_in_store(db, {**PAY_IN_STORE, "gateway": "paypal", "manual_payment_gateway": False})

    assert (order.fulfilment, order.status) == (Order.Fulfilment.PICKUP, "placed")
    assert to_pay_at_counter(order, takings(order.payments.all(), order.total)) == 0
    assert _to_pay(order) == {"to_pay": 0, "to_pay_how": ""}
    assert charged(order) == "$199.00 payment pending since Wed 2 Apr (PayPal): not received yet."
    assert list(mismatch(order)) == [order.pk]


def test_an_order_edited_down_and_marked_paid_for_the_new_total_is_paid_once(db):
    """Shopify's mark-as-paid records what is outstanding: the pending checkout sale of the first total is settled
    once the money taken covers the order's total, whatever the two amounts."""
    order = pay_in_store(db, PAY_IN_STORE, {**MARKED_PAID, "amount": "150.00"}, current_total_price="150.00")
    Order.objects.filter(pk=order.pk).update(total=Decimal("150.00"))  # the edit took a line off
    order.refresh_from_db()

    assert charged(order) == "Paid $150.00 on Sat 5 Apr (Pay in store)."
    assert mismatch(order) == {}


def test_money_taken_at_the_till_through_another_gateway_settles_the_pay_in_store(db):
    """Paid at collection on the shop's own POS (cash): another gateway, the same system, the same money."""
    till = {**MARKED_PAID, "gateway": "cash", "manual_payment_gateway": False}
    order = pay_in_store(db, PAY_IN_STORE, till)

    assert charged(order) == "Paid $199.00 on Sat 5 Apr (cash)."
    assert mismatch(order) == {}


def test_a_pickup_paid_in_store_is_asked_for_what_it_owes_after_an_edit_up(db):
    """The checkout's pending sale was $199.00; an edit added $30.00 before collection: the counter asks for all of
    it, the card and the flag agree that nothing is out of line before handover."""
    from orders.catalogue.money import takings, to_pay_at_counter
    from orders.counter.selectors import _to_pay

    order = pay_in_store(db, PAY_IN_STORE)
    Order.objects.filter(pk=order.pk).update(total=Decimal("229.00"))
    order.refresh_from_db()

    assert to_pay_at_counter(order, takings(order.payments.all(), order.total)) == Decimal("229.00")
    assert _to_pay(order) == {"to_pay": Decimal("229.00"), "to_pay_how": "Pay in store"}
    assert mismatch(order) == {}


def test_a_partial_payment_at_the_till_leaves_the_rest_owed_at_the_counter(db):
    """$120.00 taken at the counter of a $199.00 pay-in-store order: $79.00 still owed, asked for before handover."""
    from orders.counter.selectors import _to_pay

    order = pay_in_store(db, PAY_IN_STORE, {**MARKED_PAID, "amount": "120.00", "manual_payment_gateway": False,
                                            "gateway": "cash"})  # fmt: skip

    assert _to_pay(order) == {"to_pay": Decimal("79.00"), "to_pay_how": "Pay in store"}
    assert charged(order) == ("Paid $120.00 on Sat 5 Apr (cash), and $79.00 pending (Pay in store).")
    assert mismatch(order) == {}
