"""What an order's payments add up to: one reading for the answer card, the pane, the refund form and the flags.

Money is *taken* by a capture or a sale that succeeded, and only then. A bank transfer (Square's
ACH ``BANK_ACCOUNT`` tender, a Shopify manual "bank deposit") sits *pending* for days before it
settles or *fails*; an authorisation *holds* money until it is captured or voided. The card says
which, in the customer's words (:func:`how_paid`), and the ``payment_mismatch`` rule counts what
was taken by the same definition (:data:`TAKEN`), so the agent never hears "no charge recorded"
while the customer's bank shows the transfer going out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from ..models import Payment

TAKING_KINDS = (Payment.Kind.CAPTURE, Payment.Kind.SALE)
# Money taken, as a filter on payments (the rules aggregate it in SQL; :func:`takings` reads the same in Python).
TAKEN = Q(kind__in=TAKING_KINDS, status=Payment.Status.SUCCESS)
REFUNDED = Q(kind=Payment.Kind.REFUND, status=Payment.Status.SUCCESS)

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
    pending: list[Payment]  # captures and sales not settled yet
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
    def refundable(self) -> Decimal:
        """Money taken minus money already given back (never below nothing)."""
        return max(self.amount_taken - self.amount_refunded, Decimal(0))


def takings(payments) -> Takings:
    payments = list(payments)

    def of(kinds, status):
        return [p for p in payments if p.kind in kinds and p.status == status]

    success = Payment.Status.SUCCESS
    return Takings(
        taken=of(TAKING_KINDS, success),
        pending=of(TAKING_KINDS, Payment.Status.PENDING),
        failed=of(TAKING_KINDS, Payment.Status.FAILURE),
        held=of((Payment.Kind.AUTHORIZATION,), success),
        voided=total(of((Payment.Kind.VOID,), success)),
        refunds=of((Payment.Kind.REFUND,), success),
    )
