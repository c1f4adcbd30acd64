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
# Processors and tenders that move the customer's money themselves: a payment of theirs still pending (a bank transfer
# clearing, PayPal's eCheck) is money already on its way, never one to take again at the counter; with a card, too.
PROCESSOR_GATEWAYS = (
    "shopify_payments", "paypal", "bank_account", "card", "wallet", "buy_now_pay_later", "square_account", "gift_card",
)  # fmt: skip
# A pending payment the customer makes at the counter (a shop's manual "Pay in store"): :func:`payable_at_counter`.
PAY_AT_COUNTER = PENDING & Q(card_last4="") & ~Q(gateway__in=PROCESSOR_GATEWAYS)
REFUNDED = Q(kind=Payment.Kind.REFUND, status=Payment.Status.SUCCESS)

# A pickup order not collected yet (nor done otherwise): what it still owes is paid at the counter, before handover.
AWAITING_COLLECTION = Q(fulfilment=Order.Fulfilment.PICKUP) & ~Q(status__in=PICKUP_DONE)


def awaiting_collection(order: Order) -> bool:
    """:data:`AWAITING_COLLECTION` of one order in hand."""
    return order.fulfilment == Order.Fulfilment.PICKUP and order.status not in PICKUP_DONE


def payable_at_counter(payment: Payment) -> bool:
    """:data:`PAY_AT_COUNTER` of one pending payment in hand: no card, through no processor."""
    return not payment.card_last4 and payment.gateway not in PROCESSOR_GATEWAYS


def to_pay_at_counter(order: Order, m: Takings) -> Decimal:
    """What a pickup order awaiting collection still owes through a payment pending (a shop's "Pay in store"): the
    clerk takes it before handover. Nothing for any other order, nor for money owed without a pending payment (an
    authorisation the shop captures itself, a payment that failed, a payment sent through a processor and still
    clearing): the counter never asks to be paid twice."""
    if not awaiting_collection(order):
        return Decimal(0)
    return min(m.due(order.total), total(m.at_counter))


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
        """The pending payments to be made at the counter (:func:`payable_at_counter`)."""
        return [p for p in self.pending if payable_at_counter(p)]

    @property
    def refundable(self) -> Decimal:
        """Money taken minus money already given back (never below nothing)."""
        return max(self.amount_taken - self.amount_refunded, Decimal(0))

    def due(self, order_total: Decimal) -> Decimal:
        """What the customer still owes: the order's total less the money taken (never below nothing; a refund
        gives money back for goods returned, it does not make the order owed again)."""
        return max(order_total - self.amount_taken, Decimal(0))


def takings(payments) -> Takings:
    payments = list(payments)

    def of(kinds, status):
        return [p for p in payments if p.kind in kinds and p.status == status]

    success = Payment.Status.SUCCESS
    taken = of(TAKING_KINDS, success)
    return Takings(
        taken=taken,
        pending=_still_pending(of(TAKING_KINDS, Payment.Status.PENDING), taken),
        failed=of(TAKING_KINDS, Payment.Status.FAILURE),
        held=of((Payment.Kind.AUTHORIZATION,), success),
        voided=total(of((Payment.Kind.VOID,), success)),
        refunds=of((Payment.Kind.REFUND,), success),
    )


def _still_pending(pending: list[Payment], taken: list[Payment]) -> list[Payment]:
    """The pending payments no later successful sale or capture has settled: each settling one (same system, same
    gateway, processed no earlier, at least as much) settles one pending payment, earliest first."""
    settling = sorted(taken, key=_when)
    waiting = []
    for payment in sorted(pending, key=_when):
        settled = next(
            (
                p
                for p in settling
                if p.source_id == payment.source_id
                and p.gateway == payment.gateway
                and p.amount >= payment.amount
                and _when(p) >= _when(payment)
            ),
            None,
        )
        if settled is None:
            waiting.append(payment)
        else:
            settling.remove(settled)
    return [p for p in pending if p in waiting]


def _when(payment: Payment):
    return (payment.processed_at is not None, payment.processed_at or 0, payment.pk or 0)
