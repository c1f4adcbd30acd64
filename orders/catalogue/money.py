"""What an order's payments add up to: one reading for the answer card, the pane, the refund form and the flags.

Money is *taken* by a capture or a sale that succeeded, and only then. A bank transfer (Square's
ACH ``BANK_ACCOUNT`` tender, a Shopify manual "bank deposit") sits *pending* for days before it
settles or *fails*; an authorisation *holds* money until it is captured or voided. The card says
which, in the customer's words (:func:`how_paid`), and the ``payment_mismatch`` rule counts what
was taken by the same definition (:data:`TAKEN`), so the agent never hears "no charge recorded"
while the customer's bank shows the transfer going out.

A shop that takes a manual payment (Shopify's "Pay in store", "Cash on Delivery", "Bank Deposit")
records it *pending* at checkout; marking the order paid adds a *sale* of the outstanding amount
and leaves the pending one in the order's history as it was. So a pending payment is still
waiting only while no later sale in its system, through its gateway, has settled it
(:func:`takings`): otherwise the card would say the order was paid twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from ..models import PICKUP_DONE, Order, Payment

TAKING_KINDS = (Payment.Kind.CAPTURE, Payment.Kind.SALE)
# Money taken, as a filter on payments (the rules aggregate it in SQL; :func:`takings` reads the same in Python).
TAKEN = Q(kind__in=TAKING_KINDS, status=Payment.Status.SUCCESS)
PENDING = Q(kind__in=TAKING_KINDS, status=Payment.Status.PENDING)  # may since be settled: see takings()
# A pending payment through the shop's manual payment method (Shopify's ``manualPaymentGateway``: "Pay in store",
# "Cash on Delivery"): the customer pays it by hand, at the counter for a pickup. A processor's payment still clearing
# (a bank transfer, PayPal's eCheck) is money already on its way, never one to take again.
PAY_AT_COUNTER = PENDING & Q(manual=True)
REFUNDED = Q(kind=Payment.Kind.REFUND, status=Payment.Status.SUCCESS)

# A pickup order not collected yet (nor done otherwise): what it still owes is paid at the counter, before handover.
AWAITING_COLLECTION = Q(fulfilment=Order.Fulfilment.PICKUP) & ~Q(status__in=PICKUP_DONE)


def awaiting_collection(order: Order) -> bool:
    """:data:`AWAITING_COLLECTION` of one order in hand."""
    return order.fulfilment == Order.Fulfilment.PICKUP and order.status not in PICKUP_DONE


def to_pay_at_counter(order: Order, m: Takings) -> Decimal:
    """What a pickup order awaiting collection owes at the counter: all it still owes, while a payment through the
    shop's manual method is pending (``m`` read with the order's total: :func:`takings`). Nothing for any other
    order, nor for money owed without one (an authorisation the shop captures itself, a payment that failed, a
    processor's payment still clearing): the counter never asks to be paid twice."""
    if not awaiting_collection(order) or not m.at_counter:
        return Decimal(0)
    return m.due(order.total)


CARD_BRANDS = {"american_express": "Amex", "amex": "Amex", "mastercard": "Mastercard", "master": "Mastercard"}
# A payment with no card, by its gateway (Shopify's) or tender type (Square's, lower case): the words for a caller.
GATEWAY_WORDS = {
    "cash": "cash",
    "bank_account": "bank transfer",
    "square_account": "Square account",
    "buy_now_pay_later": "buy now, pay later",
    "wallet": "digital wallet",
    "gift_card": "gift card",
    "manual": "manual payment",
    "shopify_payments": "Shopify Payments",
    "paypal": "PayPal",
    "external": "paid outside Square",
}


def how_paid(payment: Payment) -> str:
    """``Visa ••4242``, ``cash``, ``bank transfer``: how the customer paid, as they would say it."""
    if payment.card_last4:
        brand = CARD_BRANDS.get(payment.card_brand.lower(), payment.card_brand.replace("_", " ").title())
        return f"{brand} ••{payment.card_last4}".strip()
    return GATEWAY_WORDS.get(payment.gateway.lower(), payment.gateway.replace("_", " "))  # "Bank Deposit" as written


def total(payments) -> Decimal:
    return sum((p.amount for p in payments), Decimal(0))


@dataclass(frozen=True)
class Takings:
    """An order's payments by what they did with the money (each list in the payments' own order)."""

    taken: list[Payment]  # captures and sales that succeeded
    pending: list[Payment]  # captures and sales not settled yet (nor settled by a later sale: a manual payment)
    failed: list[Payment]  # captures and sales that failed
    held: list[Payment]  # authorisations that succeeded
    voided: Decimal  # released from a hold
    refunds: list[Payment]  # refunds that succeeded

    @property
    def amount_taken(self) -> Decimal:
        return total(self.taken)

    @property
    def amount_refunded(self) -> Decimal:
        return total(self.refunds)

    @property
    def amount_pending(self) -> Decimal:
        return total(self.pending)

    @property
    def at_counter(self) -> list[Payment]:
        """The pending payments through the shop's manual payment method (:data:`PAY_AT_COUNTER`)."""
        return [p for p in self.pending if p.manual]

    @property
    def refundable(self) -> Decimal:
        """Money taken minus money already given back (never below nothing)."""
        return max(self.amount_taken - self.amount_refunded, Decimal(0))

    def due(self, order_total: Decimal) -> Decimal:
        """What the customer still owes: the order's total less the money taken (never below nothing; a refund
        gives money back for goods returned, it does not make the order owed again)."""
        return max(order_total - self.amount_taken, Decimal(0))


def takings(payments, order_total: Decimal | None = None) -> Takings:
    """An order's ``payments`` by what they did with the money. With the order's total, a pending payment is also
    settled once the money taken covers that total (an order marked paid after it was edited down)."""
    payments = list(payments)

    def of(kinds, status):
        return [p for p in payments if p.kind in kinds and p.status == status]

    success = Payment.Status.SUCCESS
    taken = of(TAKING_KINDS, success)
    return Takings(
        taken=taken,
        pending=_still_pending(of(TAKING_KINDS, Payment.Status.PENDING), taken, order_total),
        failed=of(TAKING_KINDS, Payment.Status.FAILURE),
        held=of((Payment.Kind.AUTHORIZATION,), success),
        voided=total(of((Payment.Kind.VOID,), success)),
        refunds=of((Payment.Kind.REFUND,), success),
    )


def _still_pending(pending: list[Payment], taken: list[Payment], order_total: Decimal | None) -> list[Payment]:
    """The pending payments nothing has settled since, earliest first.

    Nothing is pending once the money taken covers the order's total. Otherwise a later successful
    sale or capture of the same system, processed no earlier, settles a pending payment: a manual one
    (marked paid, or paid at the till, through whatever gateway) by as much as the system took since,
    another by one payment of its own gateway of at least its amount. Each settling payment settles one.
    """
    if order_total is not None and taken and total(taken) >= order_total:
        return []
    settling = sorted(taken, key=_when)
    waiting = []
    for payment in sorted(pending, key=_when):
        since = [p for p in settling if p.source_id == payment.source_id and _when(p) >= _when(payment)]
        if payment.manual and total(since) >= payment.amount:
            used = since
        else:
            used = [p for p in since if p.gateway == payment.gateway and p.amount >= payment.amount][:1]
        if used:
            for p in used:
                settling.remove(p)
        else:
            waiting.append(payment)
    return [p for p in pending if p in waiting]


def _when(payment: Payment):
    return (payment.processed_at is not None, payment.processed_at or 0, payment.pk or 0)
