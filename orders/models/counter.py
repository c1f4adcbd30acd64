"""The store counter: pickups checked line by line, handovers, and the outbox of pushes upstream."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .orders import Order, OrderLine


# --- the store counter (pickup) -----------------------------------------------------------
class Pickup(models.Model):
    """Where a pickup order stands at its store's counter: one row per order, locked by every counter action.

    The row is the lock the counter services take (``select_for_update``), so two clerks
    acting on one order at once are served one after the other.
    """

    class Stage(models.TextChoices):
        NEW = "new", "New"
        PREPARING = "preparing", "Preparing"
        READY = "ready", "Ready"
        COLLECTED = "collected", "Collected"
        REFUSED = "refused", "Refused"

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="pickup")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NEW)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Collected or refused.")
    ready_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer was told it is ready (set once: never told twice)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The pickup board: what is at the counter now, and what it handed over today.
        indexes = [models.Index(fields=["stage", "closed_at"], name="pickup_stage_closed")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.stage}"


class PickupLine(models.Model):
    """A clerk's check of one order line at the counter: located, picked or missing (how many, why)."""

    class State(models.TextChoices):
        LOCATED = "located", "Located"
        PICKED = "picked", "Picked"
        MISSING = "missing", "Missing"

    pickup = models.ForeignKey(Pickup, on_delete=models.CASCADE, related_name="lines")
    line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="pickup_check")
    state = models.CharField(max_length=16, choices=State.choices)
    missing_quantity = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=0,
        help_text="How much of the line is not on the shelf: a count of items, or all of a line sold by measure.",
    )
    reason = models.CharField(max_length=300, blank=True, default="")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["line_id"]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.state}"


class Handover(models.Model):
    """The moment the parcel leaves the counter (or is refused): who, when, how identity was checked.

    At most one per order (a unique constraint), so a double-click or two clerks at once
    record one handover.
    """

    class IdCheck(models.TextChoices):
        ORDER_NUMBER = "order_number", "Order number (from the confirmation)"
        ID_SEEN = "id_seen", "Photo ID seen (its name typed above)"
        PHONE_LAST4 = "phone_last4", "Last four digits of the phone (no longer accepted)"
        EMAIL = "email", "The order e-mail (no longer accepted)"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="handovers")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    collected_by = models.CharField(max_length=200, help_text="The name the person at the counter gave.")
    id_check = models.CharField(max_length=16, choices=IdCheck.choices, blank=True, default="")
    partial = models.BooleanField(default=False)
    lines = models.JSONField(default=list, blank=True, help_text="Ids of the order lines handed over.")
    refused = models.BooleanField(default=False)
    refusal_reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order"], name="handover_one_per_order")]

    def __str__(self) -> str:
        return f"{self.order_id} {'refused' if self.refused else 'collected'} {self.at:%Y-%m-%d %H:%M}"


class PickupPush(models.Model):
    """Outbox: a pickup state to push to one system that holds the order, retried until it accepts it.

    Unique per (order, target, state), so the same push is never queued twice.
    """

    class State(models.TextChoices):
        READY = "ready", "Ready for pickup"
        COLLECTED = "collected", "Collected"
        REFUSED = "refused", "Refused"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="pickup_pushes")
    target = models.ForeignKey("integrations.Source", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128, help_text="The order's id in the target system.")
    state = models.CharField(max_length=16, choices=State.choices)
    lines = models.JSONField(
        default=list,
        blank=True,
        help_text='What the customer took ([{"sku", "quantity"}]); fewer than the order has after a partial collection.',
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "target", "state"], name="pickuppush_once_per_target_state")
        ]
        indexes = [models.Index(fields=["order"], condition=models.Q(sent_at__isnull=True), name="pickuppush_pending")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.target_id}: {self.state}"
