"""Timeline events: one small constructor per kind, one writer.

Constructors return :class:`TimelineEvent` rows (dicts) whose ``key`` names the fact
they record, so :func:`events_write` skips a key already written (the key table's trigger on
PostgreSQL, ``ON CONFLICT DO NOTHING`` elsewhere): the same fact written twice (a page synced
twice, two workers racing) is one event.
Callers write events in the same transaction as the change they record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from omnidesk.db import upsert

from ..models import TimelineEvent

Kind = TimelineEvent.Kind
Event = dict  # a TimelineEvent row: column attname -> value


def _event(
    *,
    key: str,
    kind: str,
    occurred_at: datetime | None,
    summary: str,
    order_id=None,
    customer_id=None,
    source=None,
    actor=None,
    data=None,
    subject: str = "",
) -> Event:
    return {
        "key": key[:255],
        "kind": kind,
        "occurred_at": occurred_at or timezone.now(),
        "summary": summary[:500],
        "order_id": order_id,
        "customer_id": customer_id,
        "source_id": source.pk if source is not None else None,
        "actor_id": actor.pk if actor is not None else None,
        "data": data or {},
        "subject": subject,
        "recorded_at": timezone.now(),
    }


def order_placed(
    *,
    source,
    external_id: str,
    order_id: int,
    customer_id,
    number: str,
    channel: str,
    total: Decimal,
    currency: str,
    occurred_at,
) -> Event:
    where = "in store" if channel == "store" else "online"
    return _event(
        key=f"{source.pk}:order:{external_id}:placed",
        kind=Kind.ORDER_PLACED,
        occurred_at=occurred_at,
        summary=f"Order {number} placed {where} ({total} {currency})",
        order_id=order_id,
        customer_id=customer_id,
        source=source,
        data={"number": number, "channel": channel},
    )


def order_seen(
    *,
    source,
    external_id: str,
    external_number: str,
    order_id: int,
    customer_id,
    status_label: str,
    occurred_at,
) -> Event:
    """A system other than the origin learnt of the order (the ERP received it, the POS has it)."""
    return _event(
        key=f"{source.pk}:order:{external_id}:seen",
        kind=Kind.SEEN_BY_SYSTEM,
        occurred_at=occurred_at,
        summary=f"{source.name} has the order as {external_number or external_id} ({status_label})",
        order_id=order_id,
        customer_id=customer_id,
        source=source,
        data={"external_id": external_id, "external_number": external_number},
    )


def order_status_changed(
    *,
    source,
    external_id: str,
    order_id: int,
    customer_id,
    old: str | None,
    new: str,
    new_label: str,
    raw_status: str,
    occurred_at,
) -> Event:
    stamp = occurred_at.isoformat() if occurred_at else ""
    return _event(
        key=f"{source.pk}:order:{external_id}:status:{new}:{stamp}",
        kind=Kind.STATUS_CHANGED,
        occurred_at=occurred_at,
        summary=f"{source.name}: {new_label}" + (f" ({raw_status})" if raw_status else ""),
        order_id=order_id,
        customer_id=customer_id,
        source=source,
        data={"from": old, "to": new, "raw_status": raw_status},
    )


def payment_recorded(
    *,
    source,
    external_id: str,
    order_id: int,
    customer_id,
    kind: str,
    status: str,
    amount: Decimal,
    currency: str,
    card: str,
    occurred_at,
) -> Event:
    verb = {
        "authorization": "authorised",
        "capture": "captured",
        "sale": "paid",
        "refund": "refunded",
        "void": "voided",
    }[kind]
    failed = "" if status == "success" else f" — {status}"
    return _event(
        key=f"{source.pk}:payment:{external_id}:{status}",
        kind=Kind.REFUND if kind == "refund" else Kind.PAYMENT,
        occurred_at=occurred_at,
        summary=f"{amount} {currency} {verb}" + (f" ({card})" if card else "") + failed,
        order_id=order_id,
        customer_id=customer_id,
        source=source,
        data={"kind": kind, "status": status, "amount": str(amount)},
        subject=f"payment:{source.pk}:{external_id}",
    )


def shipment_created(
    *,
    source,
    external_id: str,
    order_id: int | None,
    customer_id,
    carrier: str,
    tracking_number: str,
    occurred_at,
) -> Event:
    return _event(
        key=f"{source.pk}:shipment:{external_id}:created",
        kind=Kind.SHIPMENT_CREATED,
        occurred_at=occurred_at,
        summary=f"Handed to {carrier or 'carrier'}" + (f", tracking {tracking_number}" if tracking_number else ""),
        order_id=order_id,
        customer_id=customer_id,
        source=source,
        data={"carrier": carrier, "tracking_number": tracking_number},
        subject=f"shipment:{source.pk}:{external_id}",
    )


def tracking_scanned(
    *,
    source,
    shipment_external_id: str,
    order_id: int | None,
    customer_id,
    status: str,
    message: str,
    location: str,
    occurred_at,
) -> Event:
    where = f" — {location}" if location else ""
    return _event(
        key=f"{source.pk}:scan:{shipment_external_id}:{occurred_at.isoformat()}:{status}",
        kind=Kind.TRACKING_SCAN,
        occurred_at=occurred_at,
        summary=f"{message or status}{where}",
        order_id=order_id,
        customer_id=customer_id,
        source=source,
        data={"status": status},
        subject=f"shipment:{source.pk}:{shipment_external_id}",
    )


def return_changed(
    *,
    source,
    external_id: str,
    order_id: int | None,
    customer_id,
    status: str,
    amount: Decimal,
    occurred_at,
) -> Event:
    return _event(
        key=f"{source.pk}:return:{external_id}:{status}",
        kind=Kind.RETURN,
        occurred_at=occurred_at,
        summary=f"Return {status}" + (f" ({amount})" if amount else ""),
        order_id=order_id,
        customer_id=customer_id,
        source=source,
        data={"status": status},
        subject=f"return:{source.pk}:{external_id}",
    )


def picking_changed(
    *,
    source,
    external_id: str,
    name: str,
    order_id: int | None,
    status: str,
    status_label: str,
    assigned_to: str,
    kind: str,
    occurred_at,
) -> Event:
    """The ERP's fulfilment task moved: assigned to someone, picked, shipped, a return received."""
    what = {"incoming": "Return", "internal": "Transfer"}.get(kind, "Picking")
    who = f", assigned to {assigned_to}" if assigned_to and status == "assigned" else ""
    stamp = occurred_at.isoformat() if occurred_at else ""
    return _event(
        key=f"{source.pk}:picking:{external_id}:{status}:{assigned_to}:{stamp}",
        kind=Kind.STATUS_CHANGED,
        occurred_at=occurred_at,
        summary=f"{source.name}: {what} {name or external_id} {status_label.lower()}{who}",
        order_id=order_id,
        source=source,
        data={"picking": name, "to": status, "assigned_to": assigned_to},
        subject=f"picking:{source.pk}:{external_id}",
    )


def flag_opened(*, flag_id: int, order_id: int, customer_id, code: str, label: str, detail: str, occurred_at) -> Event:
    """A rule found a breakdown (or a person raised one). Keyed by the flag: a flag opens once."""
    return _event(
        key=f"flag:{flag_id}:opened",
        kind=Kind.FLAG_OPENED,
        occurred_at=occurred_at,
        summary=f"{label}: {detail}" if detail else label,
        order_id=order_id,
        customer_id=customer_id,
        data={"flag": flag_id, "code": code},
    )


def flag_closed(
    *, flag_id: int, order_id: int, customer_id, code: str, label: str, reason: str, occurred_at, actor=None
) -> Event:
    """The condition cleared (or a person resolved it). Keyed by the flag: a flag closes once."""
    return _event(
        key=f"flag:{flag_id}:closed",
        kind=Kind.FLAG_CLOSED,
        occurred_at=occurred_at,
        summary=f"{label} closed: {reason}",
        order_id=order_id,
        customer_id=customer_id,
        actor=actor,
        data={"flag": flag_id, "code": code, "reason": reason},
    )


def customers_merged(*, merge) -> Event:
    who = merge.by.get_username() if merge.by else "matched automatically"
    return _event(
        key=f"merge:{merge.pk}",
        kind=Kind.CUSTOMERS_MERGED,
        occurred_at=merge.created_at,
        summary=f"Customer {merge.merged_customer_id} ({merge.merged_snapshot.get('name') or '?'}) merged in on {merge.key} — {who}",
        customer_id=merge.survivor_id,
        source=merge.source,
        actor=merge.by,
        data={"merge": merge.pk, "key": merge.key},
    )


def merge_reversed(*, merge, customer_id: int) -> Event:
    return _event(
        key=f"merge:{merge.pk}:reversed",
        kind=Kind.MERGE_REVERSED,
        occurred_at=merge.reversed_at,
        summary=f"Merge of customer {merge.merged_customer_id} reversed by {merge.reversed_by.get_username() if merge.reversed_by else '?'}",
        customer_id=customer_id,
        actor=merge.reversed_by,
        data={"merge": merge.pk},
    )


def note_added(*, note) -> Event:
    return _event(
        key=f"note:{note.pk}",
        kind=Kind.NOTE,
        occurred_at=note.created_at,
        summary=note.body[:200],
        order_id=note.order_id,
        customer_id=note.customer_id,
        actor=note.author,
    )


def identity_verified(*, interaction) -> Event:
    method = f" ({interaction.method})" if interaction.method else ""
    return _event(
        key=f"interaction:{interaction.pk}",
        kind=Kind.IDENTITY_VERIFIED,
        occurred_at=interaction.created_at,
        summary=f"Identity verified on a call{method}",
        order_id=interaction.order_id,
        customer_id=interaction.customer_id,
        actor=interaction.author,
    )


def flag_action(*, key: str, kind: str, occurred_at, summary: str, order_id, actor) -> Event:
    """A person acting on a flag, or a message sent about one."""
    return _event(key=key, kind=kind, occurred_at=occurred_at, summary=summary, order_id=order_id, actor=actor)


def events_write(events: Iterable[Event]) -> int:
    """Insert events, skipping any whose key is already written. Returns how many were new.

    On PostgreSQL the timeline is partitioned by month and the key's uniqueness lives in
    ``orders_timelineevent_key``, whose trigger skips an event written before exactly as
    ``ON CONFLICT (key) DO NOTHING`` would (``orders/partitions.py``): the insert names
    no conflict target. Events sharing a key in one call are collapsed first, the last wins.
    """
    if connection.vendor == "postgresql":
        rows = list({event["key"]: event for event in events}.values())
        return len(upsert(TimelineEvent, rows, returning=["id"]))
    return len(upsert(TimelineEvent, events, unique=["key"], update=None, returning=["id"]))
