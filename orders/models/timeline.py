"""Everything that happened to an order or a customer, in any system, in one table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .customers import Customer
from .orders import Order


class TimelineEvent(models.Model):
    """One thing that happened to an order or a customer, in any system.

    ``occurred_at`` is when it happened in its own system (UTC); ``key`` makes
    writing the same event twice a no-op, so re-syncing never duplicates it.
    """

    class Kind(models.TextChoices):
        ORDER_PLACED = "order_placed", "Order placed"
        STATUS_CHANGED = "status_changed", "Status changed"
        SEEN_BY_SYSTEM = "seen_by_system", "Seen by a system"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        SHIPMENT_CREATED = "shipment_created", "Shipment created"
        TRACKING_SCAN = "tracking_scan", "Carrier scan"
        RETURN = "return", "Return"
        NOTE = "note", "Note"
        FLAG_OPENED = "flag_opened", "Flag opened"
        FLAG_CLOSED = "flag_closed", "Flag closed"
        CUSTOMER_LINKED = "customer_linked", "Identity linked"
        CUSTOMERS_MERGED = "customers_merged", "Customers merged"
        MERGE_REVERSED = "merge_reversed", "Merge reversed"
        IDENTITY_VERIFIED = "identity_verified", "Identity verified"
        FLAG_TAKEN = "flag_taken", "Flag taken"
        FLAG_SNOOZED = "flag_snoozed", "Flag snoozed"
        MESSAGE_SENT = "message_sent", "Message to the customer"
        PICKUP = "pickup", "At the counter"

    key = models.CharField(max_length=255)
    # Indexed by the (order, occurred_at) / (customer, occurred_at) composites below.
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    # Not indexed: sources and users are almost never deleted, and no screen lists events by them.
    source = models.ForeignKey(
        "integrations.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    summary = models.CharField(max_length=500)
    subject = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="The upstream thing the event is about (a shipment, a picking), to re-link it when that thing is matched to an order later.",
    )
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [models.UniqueConstraint(fields=["key"], name="timelineevent_unique_key")]
        indexes = [
            models.Index(fields=["subject"], condition=models.Q(order__isnull=True), name="timelineevent_unlinked"),
            models.Index(fields=["order", "occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
            # The admin's list of every event in the model's order: the first month's first rows, not a sort of every
            # event (2 s over the bench database's 6M).
            models.Index(fields=["occurred_at", "id"], name="timelineevent_occurred"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.summary}"
