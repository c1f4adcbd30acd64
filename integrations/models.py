"""Sources of upstream data and the bookkeeping of pulling from them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from .adapters import adapter_class
from .crypto import decrypt_credentials, encrypt_credentials
from .hosts import ENV_PREFIX, HostGuard


class Source(models.Model):
    """One upstream system OmniDesk pulls from (a Shopify shop, a Square account, …)."""

    class Kind(models.TextChoices):
        STOREFRONT = "storefront", "Storefront"
        POS = "pos", "Point of sale"
        ERP = "erp", "ERP / order management"
        CRM = "crm", "CRM"
        CARRIER = "carrier", "Parcel carrier"

    class Health(models.TextChoices):
        NEW = "new", "Never synced"
        OK = "ok", "Healthy"
        DEGRADED = "degraded", "Degraded (recent failures)"
        FAILING = "failing", "Failing"
        DISABLED = "disabled", "Disabled"

    name = models.SlugField(
        max_length=64,
        unique=True,
        help_text="Short name used by commands and on every screen, e.g. 'shopify'.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    adapter = models.CharField(
        max_length=32,
        help_text="Which vendor API this source speaks: shopify, square, odoo, hubspot, easypost.",
    )
    base_url = models.URLField(
        max_length=500,
        help_text="Root URL of the vendor API, e.g. https://shop.myshopify.com/admin/api/2025-07.",
    )
    credentials_encrypted = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="Encrypted at rest (Fernet); never shown in clear.",
    )
    credentials_env = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Optional prefix of environment variables holding credentials: with 'SHOP', "
        "SHOP_ACCESS_TOKEN=... supplies the credential 'access_token'. Environment values win over stored ones.",
    )
    interval_seconds = models.PositiveIntegerField(
        default=60, help_text="How often the scheduler syncs this source (seconds)."
    )
    stale_after_seconds = models.PositiveIntegerField(
        default=15 * 60,
        help_text="After this long without a successful sync, every screen marks this source's data as stale.",
    )
    page_size = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Records requested per page from the vendor API. Empty: the adapter's own (Odoo 1,000; the "
        "others 250), always capped at the vendor's maximum (Shopify 250, HubSpot and EasyPost 100, Square 100-1,000 "
        "by stream).",
    )
    enabled = models.BooleanField(default=True)
    cursor = models.JSONField(
        default=dict,
        blank=True,
        help_text="Where the next incremental pull starts, per stream. Committed with each page.",
    )

    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # Lease used as the cross-process lock where PostgreSQL advisory locks are not available (SQLite demo).
    lease_owner = models.CharField(max_length=64, blank=True, default="", editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # -- credentials -------------------------------------------------------------
    @property
    def credentials(self) -> dict[str, str]:
        """Stored credentials, overlaid by ``<credentials_env>_<KEY>`` environment variables."""
        values = self.stored_credentials
        if self.credentials_env.upper().startswith(ENV_PREFIX):  # never any other variable of the process
            prefix = self.credentials_env.upper() + "_"
            for key, value in os.environ.items():
                if key.startswith(prefix):
                    values[key[len(prefix) :].lower()] = value
        return values

    @property
    def stored_credentials(self) -> dict[str, str]:
        """The credentials stored (encrypted) with the source, without the environment's."""
        return decrypt_credentials(self.credentials_encrypted)

    def set_credentials(self, values: dict[str, str]) -> None:
        self.credentials_encrypted = encrypt_credentials(values)

    def clean(self) -> None:
        """The base URL must be one of the adapter's vendor hosts; credentials_env must stay under its prefix."""
        errors = {}
        if self.credentials_env and not self.credentials_env.upper().startswith(ENV_PREFIX):
            errors["credentials_env"] = f"Must start with {ENV_PREFIX} (e.g. {ENV_PREFIX}SHOP)."
        try:
            allowed = adapter_class(self.adapter).allowed_hosts
        except ValueError as exc:
            errors["adapter"] = str(exc)
        else:
            problem = HostGuard(allowed).problem(self.base_url) if self.base_url else None
            if problem:
                errors["base_url"] = f"Not allowed: {problem}."
        if errors:
            raise ValidationError(errors)

    def credentials_merge(self, given: Mapping[str, str] | None, *, moved: bool) -> None:
        """Merge the credentials given into the stored ones (the admin's form and ``source_upsert``).

        ``moved``: the source was pointed elsewhere (``credentials_reset_needed``), so the stored
        ones are dropped first: a token given for one host is never sent to another.
        """
        if moved:
            self.set_credentials({})
        if given:
            self.set_credentials({**self.stored_credentials, **given})

    def credentials_reset_needed(self, *, base_url: str, credentials_env: str, adapter: str) -> bool:
        """Pointing the source elsewhere drops its stored credentials: they were given for the old place."""
        return (base_url, credentials_env, adapter) != (self.base_url, self.credentials_env, self.adapter)

    @property
    def credential_names(self) -> list[str]:
        return sorted(self.credentials)

    # -- health --------------------------------------------------------------------
    @property
    def is_stale(self) -> bool:
        if self.last_success_at is None:
            return True
        return timezone.now() - self.last_success_at > timedelta(seconds=self.stale_after_seconds)

    @property
    def age(self) -> timedelta | None:
        """How old this source's data is: time since its last successful sync."""
        return None if self.last_success_at is None else timezone.now() - self.last_success_at

    @property
    def freshness(self) -> str:
        """What every screen shows next to data from this source when it is stale, e.g. 'carrier data 3 h old'."""
        subject = f"{SHORT_KIND.get(self.kind, self.kind)} data"
        if self.age is None:
            return f"{subject} never synced"
        return f"{subject} {humanise(self.age)} old"

    @property
    def health(self) -> str:
        if not self.enabled:
            return self.Health.DISABLED
        if self.last_success_at is None and not self.consecutive_failures:
            return self.Health.NEW
        if self.consecutive_failures >= 3:
            return self.Health.FAILING
        if self.consecutive_failures:
            return self.Health.DEGRADED
        return self.Health.OK

    @property
    def is_due(self) -> bool:
        if not self.enabled:
            return False
        if self.last_attempt_at is None:
            return True
        return timezone.now() - self.last_attempt_at >= timedelta(seconds=self.interval_seconds)


SHORT_KIND = {"storefront": "storefront", "pos": "POS", "erp": "ERP", "crm": "CRM", "carrier": "carrier"}


def humanise(age: timedelta) -> str:
    """A short age a person reads at a glance: '40 s', '12 min', '3 h', '2 days'."""
    seconds = int(age.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


class SyncRun(models.Model):
    """One pull of one source: what it fetched, wrote and where its cursor moved."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (already running)"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Scheduler"
        COMMAND = "command", "manage.py sync"
        WEBHOOK = "webhook", "Webhook"
        ADMIN = "admin", "Admin"
        REPLAY = "replay", "Dead-letter replay"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    dead_lettered = models.PositiveIntegerField(default=0)
    cursor_before = models.JSONField(default=dict, blank=True)
    cursor_after = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.source.name} run {self.pk} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def summary(self) -> str:
        seconds = self.duration.total_seconds() if self.duration else 0.0
        text = (
            f"{self.source.name}: {self.status} — fetched {self.fetched}, created {self.created}, "
            f"updated {self.updated}, unchanged {self.unchanged}, dead-lettered {self.dead_lettered} "
            f"in {seconds:.1f}s"
        )
        if self.error:
            text += f" — {self.error}"
        return text


class RawRecord(models.Model):
    """An upstream payload exactly as received, kept for audit and replay.

    Deduplicated by content hash: a record fetched again unchanged is stored once. On
    PostgreSQL the table is partitioned by month of ``first_seen_at`` and months older
    than ``OMNIDESK_RAW_RETENTION_MONTHS`` are dropped, except the payloads open dead
    letters and waiting webhook deliveries still need (``orders/partitions.py``).
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="raw_records", db_index=False)
    stream = models.CharField(max_length=32, help_text="Which feed of the source: orders, customers, trackers, …")
    external_id = models.CharField(max_length=128)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON text.")
    payload = models.TextField(
        help_text="The payload as canonical JSON text (sorted keys); kept as text, not JSONB: it is read for audit and replay, never queried, and parsing it on every write cost more than the rest of the row."
    )
    first_seen_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the payload was first received. Payloads are dropped, a month at a time, once that month ended "
        "more than OMNIDESK_RAW_RETENTION_MONTHS months ago (default 13; 0 keeps them all), except those an open dead "
        "letter or a webhook delivery not processed yet still needs.",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "content_hash"], name="rawrecord_unique_content")]
        indexes = [models.Index(fields=["source", "stream", "external_id"])]

    def __str__(self) -> str:
        return f"{self.source.name}/{self.stream}/{self.external_id}"

    @property
    def data(self):
        """The payload, decoded."""
        return json.loads(self.payload)


class DeadLetter(models.Model):
    """An upstream record that could not be mapped or validated, with the reason.

    The rest of its page lands; a supervisor fixes the cause (adapter, data upstream)
    and replays it from the admin.
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="dead_letters")
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="dead_letters")
    # No database constraint: raw payloads are partitioned by month (orders/partitions.py) and a foreign key
    # would have to name the month too; the retention job unlinks a payload before dropping it.
    raw_record = models.ForeignKey(
        RawRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="dead_letters", db_constraint=False
    )
    stream = models.CharField(max_length=32)
    external_id = models.CharField(max_length=128, blank=True, default="")
    reason = models.TextField()
    payload = models.JSONField(null=True, blank=True)
    payload_text = models.TextField(blank=True, default="", help_text="The payload as text when it was not valid JSON.")
    created_at = models.DateTimeField(default=timezone.now)
    replay_count = models.PositiveIntegerField(default=0)
    last_replayed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="Set when a replay succeeded.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["source", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.source.name}/{self.stream}/{self.external_id or '?'}: {self.reason[:60]}"


class WebhookDelivery(models.Model):
    """A webhook received from a vendor, deduplicated by the vendor's event id."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event_id = models.CharField(max_length=128)
    webhook_id = models.CharField(
        max_length=128, blank=True, default="", help_text="The vendor's delivery id (X-Shopify-Webhook-Id)."
    )
    topic = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # No database constraint, as DeadLetter.raw_record.
    raw_record = models.ForeignKey(RawRecord, null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="webhook_unique_event")]
        indexes = [
            models.Index(
                fields=["source", "webhook_id"], condition=~models.Q(webhook_id=""), name="webhook_delivery_id"
            ),
            # The events still waiting to land (webhook_process batches them): a few rows, whatever the history.
            models.Index(
                fields=["source", "id"], condition=models.Q(processed_at__isnull=True), name="webhook_waiting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.name} {self.topic} {self.event_id}"
