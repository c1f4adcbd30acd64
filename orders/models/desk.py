"""The staff's own records: notes, calls (identity verified), the access log and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .customers import Customer
from .orders import Order


class Note(models.Model):
    """A staff note on a customer or an order, so nobody asks twice."""

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(order__isnull=False),
                name="note_has_subject",
            )
        ]

    def __str__(self) -> str:
        return self.body[:60]


class Interaction(models.Model):
    """What an agent established on a call, so the next agent does not ask again."""

    class Kind(models.TextChoices):
        IDENTITY_VERIFIED = "identity_verified", "Verified identity on this call"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    method = models.CharField(
        max_length=200, blank=True, default="", help_text="How it was established, e.g. 'order number + postcode'."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class AccessLog(models.Model):
    """Who looked at whose personal data, and when. Never the data itself (no search terms, no e-mails)."""

    class Action(models.TextChoices):
        SEARCH = "search", "Searched (results listed)"
        CUSTOMER = "customer", "Opened a customer"
        ORDER = "order", "Opened an order"
        CALLER = "caller", "Caller lookup (screen-pop)"
        API_LOOKUP = "api_lookup", "API lookup"
        API_ORDER = "api_order", "API order"
        PICKUP_BOARD = "pickup_board", "Pickup board"
        PICKUP_ORDER = "pickup_order", "Pickup order (counter)"
        WORKLIST = "worklist", "Worklist"
        ADMIN = "admin", "Admin page"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=16, choices=Action.choices)
    customer_ids = models.JSONField(default=list, blank=True, help_text="The customers whose data was shown.")
    order_id = models.BigIntegerField(null=True, blank=True)
    page = models.CharField(
        max_length=200, blank=True, default="", help_text="The path opened: ids only, never a search term."
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A token for the JSON API (telephony screen-pop). Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=8, help_text="The token's first characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Set to revoke the token at once.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
