"""Writes on sources: create/update a source, receive and process webhooks."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .adapters import WebhookSignatureError, adapter_class, adapter_for
from .models import RawRecord, Source, WebhookDelivery
from .sync import page_land, page_prepare, payload_hash, payload_json

logger = logging.getLogger(__name__)


def source_upsert(
    *,
    name: str,
    adapter: str,
    base_url: str,
    credentials: Mapping[str, str] | None = None,
    kind: str | None = None,
    **options,
) -> tuple[Source, bool]:
    """Create or update the source called ``name``. Credentials given are merged into the stored ones.

    Pointing an existing source elsewhere (base URL, adapter or credentials_env) drops its
    stored credentials first: a token given for one host is never sent to another.
    Raises ``ValidationError`` for a host the adapter does not allow (see ``hosts.py``).
    """
    cls = adapter_class(adapter)  # raises ValueError for an unknown adapter
    source = Source.objects.filter(name=name).first()
    created = source is None
    if created:
        source = Source(name=name)
    moved = not created and source.credentials_reset_needed(
        base_url=base_url, adapter=adapter, credentials_env=options.get("credentials_env", source.credentials_env)
    )
    source.adapter = adapter
    source.kind = kind or cls.kind
    source.base_url = base_url
    for field, value in options.items():
        setattr(source, field, value)
    source.credentials_merge(credentials, moved=moved)
    source.full_clean(exclude=["credentials_encrypted"])
    source.save()
    return source, created


class WebhookRejected(Exception):
    """The webhook cannot be accepted; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def webhook_receive(
    *, source: Source, body: bytes, headers: Mapping[str, str], url: str
) -> tuple[WebhookDelivery, bool]:
    """Verify and record a webhook delivery. Returns ``(delivery, is_new)``.

    A redelivery is not new: the same event id, the same delivery id (``X-Shopify-Webhook-Id``)
    or the same body (its hash: a captured, validly signed body replayed under fresh
    unsigned headers). Raises :class:`WebhookRejected` (401 on a bad signature: nothing is written).
    """
    adapter = adapter_for(source)
    try:
        event = adapter.parse_webhook(body=body, headers=headers, url=url)
    except WebhookSignatureError as exc:
        raise WebhookRejected(str(exc) or "bad signature", status=401) from exc
    except (ValueError, NotImplementedError) as exc:
        raise WebhookRejected(str(exc), status=400) from exc
    with transaction.atomic():
        text = payload_json(event.payload)
        raw, raw_is_new = RawRecord.objects.get_or_create(
            source=source,
            content_hash=payload_hash(event.payload, text),
            defaults={
                "stream": event.stream,
                "external_id": adapter.external_id(event.stream, event.payload)[:128],
                "payload": text,
            },
        )
        same = Q(event_id=event.event_id) | (Q(webhook_id=event.delivery_id) if event.delivery_id else Q(pk__in=[]))
        if not raw_is_new:
            same |= Q(raw_record=raw)
        earlier = WebhookDelivery.objects.filter(same, source=source).order_by("pk").first()
        if earlier is not None:
            return earlier, False
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    source=source,
                    event_id=event.event_id,
                    webhook_id=event.delivery_id[:128],
                    topic=event.topic,
                    raw_record=raw,
                )
        except IntegrityError:
            return WebhookDelivery.objects.get(source=source, event_id=event.event_id), False
    return delivery, True


WEBHOOK_BATCH = 50  # events of one source and stream landed together when they queue up


def webhook_process(*, delivery_id: int) -> None:
    """Land a webhook's payload through the same pipeline as a sync page, at once, with any other events of
    the same source and stream still waiting (up to :data:`WEBHOOK_BATCH`).

    A sync run of the same source may be going on (a backfill takes minutes): the events do
    not wait for it, only for the run's page in flight (``page_land`` takes the source's
    landing lock). What the run lands after them cannot roll them back: an order or a parcel
    older than the stored one is left alone (ingest's ``_older`` rules).

    When events arrive faster than one worker lands them one by one (each waits for a page
    in flight), the ones waiting go in the same page: one wait, one transaction, however
    many events, so a backlog drains instead of growing. Each event is completed upstream
    first (``adapter.complete``, outside any transaction); then this delivery's row is
    locked, waiting if another worker's batch holds it (and returning once that batch has
    landed it), and the others are taken only if no other worker holds them
    (``SKIP LOCKED``). A batch that fails rolls back whole and this event is landed alone
    (one bad event never holds back the others); if that fails too, the task tries again
    later (``process_webhook``'s retries) and the error is kept on the delivery.
    """
    delivery = WebhookDelivery.objects.select_related("source", "raw_record").get(pk=delivery_id)
    if delivery.processed_at is not None:
        return
    source = delivery.source
    adapter = adapter_for(source)
    stream = delivery.raw_record.stream
    waiting = list(
        WebhookDelivery.objects.filter(source=source, raw_record__stream=stream, processed_at__isnull=True)
        .exclude(pk=delivery.pk)
        .select_related("raw_record")
        .order_by("pk")[: WEBHOOK_BATCH - 1]
    )
    if waiting:
        try:
            _webhooks_land(source, adapter, stream, delivery, waiting)
            return
        except Exception:  # one event that cannot land must not hold back the others: each then lands alone
            logger.warning(
                "a batch of %d %s events failed; landing %s alone", len(waiting) + 1, source.name, delivery.pk
            )
    try:
        _webhooks_land(source, adapter, stream, delivery, [])
    except Exception:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(error=traceback.format_exc(limit=3)[-4000:])
        raise  # the task tries again later; the error stays on the delivery (admin) meanwhile


def _webhooks_land(source, adapter, stream: str, delivery: WebhookDelivery, waiting: list[WebhookDelivery]) -> None:
    """Complete ``delivery`` and ``waiting`` upstream, then land in one page those still unlanded and not held by
    another worker (``delivery`` itself is waited for), in the order they were received (the last wins)."""
    batch = [delivery, *waiting]
    items = adapter.complete(stream, [d.raw_record.data for d in batch])  # may ask upstream: outside a transaction
    completed = dict(zip((d.pk for d in batch), items, strict=True))
    with transaction.atomic():
        if not WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk, processed_at__isnull=True).exists():
            return  # another worker's batch landed it meanwhile
        taken = {delivery.pk}
        taken.update(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[d.pk for d in waiting], processed_at__isnull=True)
            .values_list("pk", flat=True)
        )
        page_land(
            source=source,
            adapter=adapter,
            stream=stream,
            page=page_prepare(adapter, stream, [completed[pk] for pk in sorted(taken)]),
            cursor=None,
            run=None,
        )
        WebhookDelivery.objects.filter(pk__in=taken).update(processed_at=timezone.now(), error="")
