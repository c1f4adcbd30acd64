"""Order correlation: one canonical order per real order, whichever system saw it first.

**Keys.** Other systems refer to an order by the number the storefront gave it: the
ERP's ``client_order_ref``/``origin`` and the POS's ``reference_id`` say ``#1001``.
So an order's keys are the normalised storefront number (from the storefront's own
record) and every reference any record makes. A POS receipt or an ERP sale-order name
is *not* a key: nobody else repeats them, and short receipt codes would collide with
order numbers. ``OrderKey`` is unique, so a record naming a known key lands on that
order, and a record that bridges two orders merges them.

**Precedence, per field.** Each system's record keeps what it says of the order's own
fields (``OrderRecord.fields``), and the canonical fields are derived from all of them
(:func:`orders_fields_refresh`), so they are the same whichever system was synced first.
The order's identity — number, channel, fulfilment, currency, total, cancellation — is the
origin's (the most authoritative system that knows it: storefront, then POS, then ERP);
the facts any system may hold alone — customer, store, placed, promised by, e-mail, phone —
are the most authoritative *non-empty* value (the ERP's ``commitment_date`` is the promise
when the storefront has none).

**Late arrivals.** Pickings, standalone payments, returns reported on their own (a Square
return order) and carrier trackers may land before the order they belong to; they keep the reference that names it and are linked when
it arrives (:func:`orphans_link`), their timeline events with them. An ERP move (a
picking line) may land before its picking: it keeps the picking's id and is linked when
the picking lands (:func:`picking_lines_link`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q

from omnidesk.db import update_rows, upsert

from ..catalogue.lines import PRECEDENCE
from ..models import (
    Customer,
    Flag,
    Note,
    Order,
    OrderKey,
    OrderLine,
    OrderRecord,
    Payment,
    Picking,
    PickingLine,
    PickingPackage,
    Return,
    Shipment,
    TimelineEvent,
)
from .customers import customers_survivor_of

# The order's identity is its origin's; the other fields take the most authoritative non-empty value.
FROM_ORIGIN = ("number", "channel", "fulfilment", "currency", "total", "cancelled_at")
FIRST_KNOWN = ("customer_id", "store_id", "placed_at", "promised_by", "email", "phone", "contact_name")
TIMES = frozenset({"placed_at", "promised_by", "cancelled_at"})
# The promise is what the customer was told: the storefront's, else the ERP's commitment date; a POS
# pickup time mirrored from a web order is the store's own schedule, the promise only for a sale it holds alone.
FIELD_PRECEDENCE = {"promised_by": {"storefront": 0, "erp": 1, "pos": 2, "crm": 3, "carrier": 4}}


def normalise_number(value: str) -> str:
    """``'#1001 '`` -> ``'1001'``; case and spacing differences between systems do not matter."""
    return "".join((value or "").split()).lstrip("#").upper()


def record_keys(source, record) -> set[str]:
    keys = {normalise_number(ref) for ref in record.references}
    if source.kind == "storefront":
        keys.add(normalise_number(record.number or record.external_id))
    return keys - {""}


def orders_for(source, records, known: dict[str, int]) -> tuple[dict[str, int | None], list[tuple[int, set[int]]]]:
    """Which existing order each record belongs to (``None``: a new one), and the merges that implies.

    ``known`` maps the external ids already linked to their order. Records of this page
    that share a key with each other and with nothing else get one new order between
    them: the first such record's, which the caller creates; the others point at it via
    the returned ``None`` and :func:`keys_claim` after creation.
    """
    keys_of = {r.external_id: record_keys(source, r) for r in records}
    owner = dict(OrderKey.objects.filter(key__any=set().union(*keys_of.values())).values_list("key", "order_id"))
    target: dict[str, int | None] = {}
    merges: list[tuple[int, set[int]]] = []
    for record in records:
        candidates = {owner[k] for k in keys_of[record.external_id] if k in owner}
        if record.external_id in known:
            candidates.add(known[record.external_id])
        if len(candidates) > 1:
            survivor = min(candidates)
            merges.append((survivor, candidates - {survivor}))
            candidates = {survivor}
            for key, order_id in owner.items():
                if order_id in merges[-1][1]:
                    owner[key] = survivor
        target[record.external_id] = next(iter(candidates), None)
    return target, merges


def keys_claim(source, records, order_of: dict[str, int]) -> dict[str, int]:
    """Record every key of these records for their order; a key another order of this page already claimed wins.

    Returns ``{external_id: order_id}`` corrected for records whose key was claimed by
    an order created earlier in the same page (two new records naming ``#1001``).
    """
    rows = {}
    for record in records:
        for key in record_keys(source, record):
            rows.setdefault(key, order_of[record.external_id])
    # Claimed in key order, so two pages claiming overlapping keys lock them in the same order.
    upsert(OrderKey, [{"key": k, "order_id": rows[k]} for k in sorted(rows)], unique=["key"], update=None)
    owner = dict(OrderKey.objects.filter(key__any=list(rows)).values_list("key", "order_id"))
    corrected = dict(order_of)
    for record in records:
        claimed = {owner[k] for k in record_keys(source, record) if k in owner}
        if len(claimed) == 1:
            corrected[record.external_id] = claimed.pop()
    return corrected


def orders_merge(survivor: int, others: Iterable[int]) -> None:
    """Fold duplicate canonical orders into ``survivor`` (everything of theirs moves; flags are re-derived)."""
    others = [o for o in others if o != survivor]
    if not others:
        return
    for model in (OrderRecord, OrderLine, Payment, Shipment, Return, Picking, Note, TimelineEvent, OrderKey):
        model.objects.filter(order_id__any=others).update(order_id=survivor)
    Flag.objects.filter(order_id__any=others).delete()
    Order.objects.filter(pk__any=others).delete()


def record_fields(row: dict) -> dict:
    """One system's word on the order's fields, as JSON (kept on its ``OrderRecord``)."""
    return {
        name: value.isoformat() if isinstance(value, datetime) else str(value) if isinstance(value, Decimal) else value
        for name, value in row.items()
    }


def _field_value(name: str, raw):
    if raw in (None, ""):
        return None if name in TIMES or name.endswith("_id") else raw
    if name in TIMES:
        return datetime.fromisoformat(raw)
    return Decimal(raw) if name == "total" else raw


def orders_fields_refresh(order_ids: Iterable[int]) -> set[int]:
    """Derive each order's own fields from every system's record of it (see the module's precedence).

    A fixed handful of queries (records, merges followed, customers alive, the orders) and one bulk
    update whatever the number of orders; returns the orders that changed.
    """
    order_ids = list(set(order_ids))
    if not order_ids:
        return set()
    records: dict[int, list[tuple]] = {}
    for order_id, source_id, kind, name, fields in (
        OrderRecord.objects.filter(order_id__any=order_ids)
        .exclude(fields={})
        .values_list("order_id", "source_id", "source__kind", "source__name", "fields")
    ):
        records.setdefault(order_id, []).append((PRECEDENCE.get(kind, 9), name, source_id, fields, kind))
    named = {r[3].get("customer_id") for rows in records.values() for r in rows} - {None}
    survivor = customers_survivor_of(named)  # a customer merged since the record named it
    alive = set(Customer.objects.filter(pk__any=named | set(survivor.values())).values_list("pk", flat=True))
    current = {
        o["id"]: o
        for o in Order.objects.filter(pk__any=list(records)).values(
            "id", "origin_source_id", *FROM_ORIGIN, *FIRST_KNOWN
        )
    }
    rows = []
    for order_id, found in records.items():
        found.sort(key=lambda r: r[:2])
        origin = found[0]
        derived = {"origin_source_id": origin[2]}
        derived.update({name: _field_value(name, origin[3].get(name)) for name in FROM_ORIGIN})
        for name in FIRST_KNOWN:
            ranked = found
            if name in FIELD_PRECEDENCE:
                ranked = sorted(found, key=lambda r, rank=FIELD_PRECEDENCE[name]: (rank.get(r[4], 9), r[1]))
            values = (_field_value(name, r[3].get(name)) for r in ranked)
            if name == "customer_id":  # followed through merges; one deleted since is no customer
                values = (survivor.get(v, v) for v in values)
                values = (v for v in values if v in alive)
            derived[name] = next(
                (v for v in values if v not in (None, "")), None if name in TIMES or name.endswith("_id") else ""
            )
        before = current.get(order_id)
        if before is not None and any(before[k] != v for k, v in derived.items()):
            rows.append({"id": order_id, **derived})
    update_rows(Order, rows, fields=["origin_source_id", *FROM_ORIGIN, *FIRST_KNOWN])
    return {row["id"] for row in rows}


@dataclass(frozen=True)
class OrphanScope:
    """The keys one page of one source wrote or named, which orphans may be waiting for.

    Its orders' ids and numbers (this source's pickings and payments name an order so),
    and the tracking numbers of its shipments and pickings (a carrier's tracker names only
    that). A page's own pickings, payments and trackers put the keys they name here too,
    so they are linked as well. Each key is one index probe: a page costs the same
    however many orphans the pages before it left waiting.
    """

    source_id: int
    order_external_ids: frozenset[str] = frozenset()
    order_numbers: frozenset[str] = frozenset()
    tracking_numbers: frozenset[str] = frozenset()
    picking_external_ids: frozenset[str] = frozenset()  # the page's own pickings, which moves may wait for


def _orphans_of_scope(kind: str, scope: OrphanScope, tracking: set[str]) -> Q | None:
    """Which orphans of ``kind`` the scope can concern (each arm an index of its own); ``None``: none."""
    source, parts = scope.source_id, []
    if kind in ("picking", "payment", "return") and scope.order_external_ids:
        parts.append(Q(source_id=source, order_external_id__any=scope.order_external_ids))
    if kind == "picking" and scope.order_numbers:
        parts.append(Q(source_id=source, order_reference__any=scope.order_numbers))
    if kind == "shipment" and tracking:
        parts.append(Q(tracking_number__any=tracking))
    return reduce(or_, parts) if parts else None


def orphans_link(scope: OrphanScope | None = None) -> set[int]:
    """Link pickings, payments, returns and carrier shipments that arrived before their order. Returns the orders
    touched.

    With a ``scope`` (every page) only the orphans waiting for the keys that page wrote
    or named are looked at, and their orders found by those keys: index probes, O(page)
    whatever the order of arrival. Without (once per sync run), every orphan whose order
    is there, in one pass over the orphans: what a page's own pass could not see — rows
    another sync's open transaction held or was writing meanwhile.
    """
    tracking = set(scope.tracking_numbers) if scope is not None else set()
    touched: set[int] = set()
    for model, kind in ((Picking, "picking"), (Payment, "payment"), (Return, "return"), (Shipment, "shipment")):
        orphans = model.objects.filter(order__isnull=True).order_by()
        if scope is None:
            orphans = orphans.filter(reduce(or_, (Exists(finder) for finder in _FINDERS[kind])))
        else:
            concerned = _orphans_of_scope(kind, scope, tracking)
            if concerned is None:
                continue
            orphans = orphans.filter(concerned)
        order_of = _orders_of_orphans(kind, list(orphans.values_list("id", *_KEYS[kind])))
        if not order_of:  # nothing of this kind to link: no statement more
            continue
        # Rows another sync's open transaction holds are skipped, never waited for: two sources
        # syncing at once must not deadlock here. What is skipped is linked at the end of a run.
        locked = model.objects.filter(pk__any=list(order_of), order__isnull=True).order_by("pk")
        linked = list(locked.select_for_update(skip_locked=True).values_list("id", "source_id", "external_id"))
        update_rows(model, [{"id": row[0], "order_id": order_of[row[0]]} for row in linked], fields=["order_id"])
        if kind == "picking" and linked:
            # A picking linked now: the carrier's trackers may be waiting for its packages' tracking numbers.
            tracking.update(
                PickingPackage.objects.filter(picking_id__any=[row[0] for row in linked]).values_list(
                    "tracking_number", flat=True
                )
            )
        subjects = {f"{kind}:{source_id}:{external_id}": order_of[pk] for pk, source_id, external_id in linked}
        touched |= set(subjects.values())
        events = TimelineEvent.objects.filter(order__isnull=True, subject__any=list(subjects)).values_list(
            "id", "subject"
        )
        update_rows(
            TimelineEvent, [{"id": pk, "order_id": subjects[subject]} for pk, subject in events], fields=["order_id"]
        )
    return touched | picking_lines_link(scope)


def picking_lines_link(scope: OrphanScope | None = None) -> set[int]:
    """Attach ERP moves that landed before their picking to it. Returns the orders of the pickings they joined.

    Odoo's moves stream may carry a move whose picking the pickings stream has not brought
    yet (created between the two reads of one run). With a ``scope`` only the moves waiting
    for that page's pickings are looked at (one probe of the partial ``pickingline_unlinked``
    index per picking id, none when the page has no picking); without, every waiting move
    whose picking is there, once per sync run.
    """
    waiting = PickingLine.objects.filter(picking__isnull=True).order_by("pk")
    if scope is None:
        there = Picking.objects.filter(source_id=OuterRef("source_id"), external_id=OuterRef("picking_external_id"))
        waiting = waiting.filter(Exists(there))
    elif scope.picking_external_ids:
        waiting = waiting.filter(source_id=scope.source_id, picking_external_id__any=scope.picking_external_ids)
    else:
        return set()
    # Skipped, never waited for, when another sync's open transaction holds them (as in orphans_link).
    lines = list(waiting.select_for_update(skip_locked=True).values_list("id", "source_id", "picking_external_id"))
    if not lines:
        return set()
    keys = {(source_id, ext) for _, source_id, ext in lines}
    pickings = {
        (source_id, ext): (pk, order_id)
        for pk, source_id, ext, order_id in Picking.objects.filter(
            source_id__any={source_id for source_id, _ in keys}, external_id__any={ext for _, ext in keys}
        ).values_list("id", "source_id", "external_id", "order_id")
        if (source_id, ext) in keys
    }
    rows = [
        {"id": pk, "picking_id": pickings[(source_id, ext)][0]}
        for pk, source_id, ext in lines
        if (source_id, ext) in pickings
    ]
    update_rows(PickingLine, rows, fields=["picking_id"])
    return {order_id for key, (_, order_id) in pickings.items() if order_id}


# What each kind of orphan names its order by, and (for the run's one pass) how to tell its order is there.
_KEYS = {
    "picking": ("source_id", "order_external_id", "order_reference"),
    "payment": ("source_id", "order_external_id"),
    "return": ("source_id", "order_external_id"),
    "shipment": ("tracking_number",),
}
_FINDERS = {
    "picking": [
        OrderRecord.objects.filter(source_id=OuterRef("source_id"), external_id=OuterRef("order_external_id")),
        OrderRecord.objects.filter(
            source_id=OuterRef("source_id"), external_number=OuterRef("order_reference")
        ).exclude(external_number=""),
    ],
    "payment": [OrderRecord.objects.filter(source_id=OuterRef("source_id"), external_id=OuterRef("order_external_id"))],
    "return": [OrderRecord.objects.filter(source_id=OuterRef("source_id"), external_id=OuterRef("order_external_id"))],
    "shipment": [
        Shipment.objects.filter(tracking_number=OuterRef("tracking_number"), order__isnull=False).exclude(
            tracking_number=""
        ),
        PickingPackage.objects.filter(tracking_number=OuterRef("tracking_number"), picking__order__isnull=False),
    ],
}


def _orders_of_orphans(kind: str, rows: list[tuple]) -> dict[int, int]:
    """``{orphan id: order id}`` for the orphans (``(id, *_KEYS[kind])``) whose order is there, found by their keys.

    A picking, a payment or a return by its order's id in its own source (a picking also by the sale
    order's name); a tracker by its tracking number, on another system's shipment first,
    then on a package of an ERP picking. Every lookup is ``= ANY`` on an indexed column.
    """
    if not rows:
        return {}
    if kind == "shipment":
        numbers = {number for _, number in rows if number}
        owner = dict(
            PickingPackage.objects.filter(tracking_number__any=numbers, picking__order__isnull=False).values_list(
                "tracking_number", "picking__order_id"
            )
        )
        owner.update(
            Shipment.objects.filter(tracking_number__any=numbers, order__isnull=False)
            .exclude(tracking_number="")
            .values_list("tracking_number", "order_id")
        )
        return {pk: owner[number] for pk, number in rows if number in owner}
    ids = {row[2] for row in rows if row[2]}
    numbers = {row[3] for row in rows if kind == "picking" and row[3]}
    # Two lookups, not one with OR: each is then sure to probe its own index.
    by_id = {
        (source_id, external_id): order_id
        for source_id, external_id, order_id in OrderRecord.objects.filter(external_id__any=ids).values_list(
            "source_id", "external_id", "order_id"
        )
    }
    by_number = {
        (source_id, number): order_id
        for source_id, number, order_id in OrderRecord.objects.filter(external_number__any=numbers).values_list(
            "source_id", "external_number", "order_id"
        )
    }
    found = {}
    for pk, source_id, order_external_id, *rest in rows:
        order_id = by_id.get((source_id, order_external_id))
        if order_id is None and rest:
            order_id = by_number.get((source_id, rest[0]))
        if order_id is not None:
            found[pk] = order_id
    return found
