"""The store counter: preparing, handing over and pushing a pickup, race-safe, scoped to the clerk's stores: the payloads and helpers its tests share."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.models import Source
from orders.counter.services import IdentityCheck
from orders.models import (
    Lifecycle,
    TimelineEvent,
)
from tests.factories import OrderRecordFactory, SourceFactory
from tests.orders import scene as scenes

NUMBER = IdentityCheck(name="Zoë Müller", method="order_number", value="#1001")


ZOE = "zoe.muller@example.com"


def _scene():
    scene = scenes.build()
    square = SourceFactory(name="square", kind=Source.Kind.POS, adapter="square")
    OrderRecordFactory(order=scene.web_order, source=square, external_id="SQ1001", external_number="#1001")
    scene.web_order.shipments.all().delete()  # the agent scene's parcel: this order waits at the counter
    scene.web_order.promised_by = timezone.now() - timedelta(hours=1)
    scene.web_order.status = Lifecycle.PAID
    scene.web_order.save()
    return scene


def _counter_events(order) -> list[tuple[str, str | None]]:
    rows = TimelineEvent.objects.filter(order=order, kind=TimelineEvent.Kind.PICKUP).order_by("id")
    return [(e.summary, e.actor.username if e.actor else None) for e in rows]
