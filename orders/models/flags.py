"""What went wrong with an order (flags), the supervisors' rule settings, and the messages to customers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .orders import Order


class Flag(models.Model):
    """A detected breakdown on an order. Opens when its condition starts, closes when it clears."""

    class Code(models.TextChoices):
        PHANTOM_ORDER = "phantom_order", "Phantom order"
        UNASSIGNED = "unassigned", "Nobody assigned"
        STOCK_SHORTFALL = "stock_shortfall", "Stock shortfall"
        STUCK_SHIPMENT = "stuck_shipment", "Stuck shipment"
        DELIVERY_EXCEPTION = "delivery_exception", "Delivery exception"
        PROMISE_AT_RISK = "promise_at_risk", "Promise at risk"
        PROMISE_MISSED = "promise_missed", "Promise missed"
        RETURN_NOT_REFUNDED = "return_not_refunded", "Return not refunded"
        DUPLICATE_SHIPMENT = "duplicate_shipment", "Duplicate shipment"
        PAYMENT_MISMATCH = "payment_mismatch", "Payment mismatch"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(max_length=32, choices=Code.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True, default="", help_text="The evidence: which systems disagree and how.")
    evidence = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_flags",
        help_text="Who is working on it (taken from the worklist).",
    )
    snoozed_until = models.DateTimeField(
        null=True, blank=True, help_text="Hidden from the worklist's default view until then (with a reason)."
    )
    snooze_reason = models.CharField(max_length=300, blank=True, default="", db_default="")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when a person closed the flag rather than the condition clearing.",
    )
    resolution = models.CharField(
        max_length=300, blank=True, default="", db_default="", help_text="Why a person closed it."
    )
    resolved_while_holding = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Resolved by a person while the condition still held: detection does not reopen it until the "
        "condition has cleared once.",
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "code"],
                condition=models.Q(closed_at__isnull=True),
                name="flag_one_open_per_code",
            )
        ]
        indexes = [models.Index(fields=["code", "closed_at"])]

    def __str__(self) -> str:
        return f"{self.code} on {self.order_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class DetectionRule(models.Model):
    """A supervisor's setting for one detection rule: whether it runs, and after how long its condition counts.

    One row per flag code (the migration creates them with the defaults). A rule turned
    off closes its open flags at the next run.
    """

    code = models.CharField(max_length=32, choices=Flag.Code.choices, unique=True)
    enabled = models.BooleanField(default=True, help_text="Off: the rule raises nothing and its open flags close.")
    threshold = models.DurationField(
        null=True,
        blank=True,
        help_text=(
            "How old the condition must be before the flag opens (strictly older). Defaults: phantom order "
            "30 min after it was placed; nobody assigned 2 h after the order was placed; stuck shipment 48 h "
            "after the last carrier scan; return not refunded 7 days after the return was received. "
            "Empty: the default. Other rules have no threshold."
        ),
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


READY_FOR_PICKUP = "ready_for_pickup"


class MessageTemplate(models.Model):
    """The ready-to-send message for one flag code, or for an order ready for pickup; supervisors edit the wording."""

    code = models.CharField(
        max_length=32,
        choices=[*Flag.Code.choices, (READY_FOR_PICKUP, "Ready for pickup (sent by the store counter)")],
        unique=True,
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Django template. Variables: customer_name, order_number, promised, projected, carrier, "
        "tracking_number, tracking_url, carrier_status, store_name, store_address, items, cancellable, "
        "trace_recorded. A text that offers to cancel an order that can no longer be cancelled, or says we asked "
        "the carrier when nobody recorded a trace, is refused at sending."
    )
    auto_send = models.BooleanField(
        default=False,
        help_text="Send automatically when the flag opens (otherwise an agent sends it with one click). "
        "The ready-for-pickup message always goes when the last line is picked.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class CustomerMessage(models.Model):
    """A message sent to the customer about one flag, or that the order is ready for pickup.

    At most one per flag, and one ready-for-pickup per order: the same news never goes twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will retry)"

    flag = models.OneToOneField(Flag, null=True, blank=True, on_delete=models.CASCADE, related_name="message")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="messages")
    about = models.CharField(max_length=32, default="", blank=True, help_text="The template it was written from.")
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when sent automatically.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "about"], condition=models.Q(flag__isnull=True), name="message_once_per_order_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"
