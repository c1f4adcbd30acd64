"""One customer, whatever system knows them: identities per system, names, merges and suggested links."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .base import SourcedModel


class Customer(models.Model):
    """One person, however many systems know them."""

    name = models.CharField(max_length=200, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="", help_text="Primary e-mail (normalised).")
    phone = models.CharField(max_length=32, blank=True, default="", help_text="Primary phone in E.164.")
    loyalty_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["email"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["loyalty_id"]),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"Customer {self.pk}"


class CustomerName(models.Model):
    """One distinct customer name as search compares it (accents off, lower case), for search by name.

    Namesakes are common (many Ann Lees, many José Garcías), so the typo-tolerant
    trigram search walks the few distinct names, nearest first, and then fetches each
    name's customers through a plain index (``orders.search``). Written only by a
    database trigger on ``orders_customer`` (migration ``0008_customer_names``), so every
    way a customer's name is written — the sync's bulk upserts, COPY, the admin, a merge
    reversed — keeps it current. Names nobody carries any more stay (they find nobody).
    """

    folded = models.TextField(primary_key=True)

    def __str__(self) -> str:
        return self.folded


def revealing_source(help_text: str) -> models.ForeignKey:
    """The system whose record showed two customers to be (maybe) one person; kept if the source is deleted."""
    return models.ForeignKey(
        "integrations.Source",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text=help_text,
    )


class CustomerMerge(models.Model):
    """Two customers found to be one person, folded together; a supervisor can reverse it.

    Records what moved (identities, orders, notes, timeline events) and the merged
    customer as it was, so reversing restores exactly that under its old id. A reversed
    pair is never merged automatically again.
    """

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    merged_customer_id = models.BigIntegerField(help_text="The id the merged customer had (restored on reversal).")
    merged_snapshot = models.JSONField(
        default=dict, help_text="Name, e-mail, phone and loyalty id of the merged customer."
    )
    key = models.CharField(max_length=300, help_text="What they shared, e.g. 'email:ann@example.com', or 'manual'.")
    source = revealing_source("The system whose record revealed the match.")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who merged them (empty: matched automatically).",
    )
    moved = models.JSONField(default=dict, help_text="Ids that moved to the survivor, per kind.")
    created_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merged_customer_id"])]

    def __str__(self) -> str:
        return f"Customer {self.merged_customer_id} into {self.survivor_id} ({self.key})"


class CustomerLink(models.Model):
    """Two customers that may be one person: a single unverified key (a guest order's phone, a CRM
    contact's e-mail) points from one to the other. Never merged automatically; a supervisor, or an
    agent who verified the caller on this call, confirms (they are merged) or rejects (never again).
    """

    class Decision(models.TextChoices):
        OPEN = "open", "Open"
        REJECTED = "rejected", "Not the same person"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=300, help_text="The one key they share, e.g. 'phone:+15551234567'.")
    source = revealing_source("The system whose record suggested the link.")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "other"], name="customerlink_unique"),
            models.CheckConstraint(condition=models.Q(customer__lt=models.F("other")), name="customerlink_ordered"),
        ]
        indexes = [models.Index(fields=["other"])]

    def __str__(self) -> str:
        return f"Customer {self.customer_id} ~ {self.other_id} ({self.key})"


class CustomerIdentity(SourcedModel):
    """A customer as one upstream system knows them (Shopify customer, Square customer, HubSpot contact)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="", help_text="As the source wrote it.")
    email_normalised = models.CharField(max_length=254, blank=True, default="", db_index=True)
    phone = models.CharField(max_length=64, blank=True, default="", help_text="As the source wrote it.")
    phone_e164 = models.CharField(max_length=32, blank=True, default="", db_index=True)
    loyalty_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    email_verified = models.BooleanField(
        default=False,
        db_default=False,  # rows COPYed without it (the benchmark's data) are unverified
        help_text="The system vouches for this e-mail (a verified storefront account, a POS customer record). "
        "Unverified e-mails (guest orders, CRM contacts) link customers only with a second key that agrees.",
    )
    phone_verified = models.BooleanField(
        default=False, db_default=False, help_text="The system vouches for this phone (a POS customer record)."
    )
    source_updated_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "customer identities"
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="customeridentity_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
