"""The API's two GETs: lookup by anything a caller says, and one order with everything known. Both audited."""

from __future__ import annotations

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Schema

from integrations.adapters.fields import http_url

from ..access import visible_orders
from ..audit import audit
from ..desk import search
from ..desk.links import maybe_same_as
from ..desk.selectors import distinct, order_pane, order_systems, presence_sources
from ..models import AccessLog, Customer, Order, quantity_value
from .auth import TokenAuth, signed_in_or_token
from .schemas import ErrorOut, LookupOut, OrderDetailOut, PaymentOut, ScanOut, ShipmentOut

LOOKUP_ORDERS_PER_CUSTOMER = 5

api = NinjaAPI(
    title="OmniDesk API",
    version="1",
    description="Customer and order lookup for telephony / IVR screen-pop. Every call is audited.",
    auth=TokenAuth(),
    urls_namespace="api",
    openapi_url="/schema",
    docs_url=None,
    docs_decorator=signed_in_or_token,
)


@api.get(
    "/lookup",
    response=LookupOut,
    operation_id="orders_api_lookup",
    summary="Find customers and orders by anything a caller says",
)
def lookup(request: HttpRequest, q: str = "", phone: str = ""):
    """``q``: any identifier (order number in any system's form, e-mail, phone, name, tracking or
    receipt number, loyalty id, last four card digits with a name or date). ``phone``: the caller's
    number, read in any format. Orders of each matched customer come along (newest five)."""
    results = search.search(request.user, phone or q)
    customers = [hit for hit in results.hits if hit.kind == "customer"]
    order_hits = {hit.order.pk: hit for hit in results.hits if hit.kind == "order"}
    prefetch_related_objects([hit.customer for hit in customers], "identities")
    their_orders = _recent_orders(request.user, [hit.customer.pk for hit in customers])
    orders = [hit.order for hit in order_hits.values()] + [o for o in their_orders if o.pk not in order_hits]
    _with_systems_and_flags(orders)
    sources = presence_sources()
    links = maybe_same_as([hit.customer.pk for hit in customers], request.user)
    audit(request.user, AccessLog.Action.API_LOOKUP, customer_ids=results.customer_ids)
    return {
        "query": results.reading.text,
        "customers": [
            _customer_out(hit.customer, [str(m) for m in hit.matches], links[hit.customer.pk]) for hit in customers
        ],
        "orders": [
            _order_out(o, [str(m) for m in order_hits[o.pk].matches] if o.pk in order_hits else [], sources)
            for o in orders
        ],
    }


@api.get(
    "/orders/{order_id}",
    response={200: OrderDetailOut, 404: ErrorOut},
    operation_id="orders_api_order_detail",
    summary="One order, everything known",
)
def order_detail(request: HttpRequest, order_id: int):
    """The order with its lines, payments, shipments and scans, returns, flags and merged timeline."""
    order = get_object_or_404(visible_orders(request.user).select_related("store", "customer"), pk=order_id)
    pane = order_pane(order)
    _with_systems_and_flags([order])
    audit(request.user, AccessLog.Action.API_ORDER, customer_ids=[order.customer_id], order_id=order.pk)
    return {
        **_order_out(order, [], presence_sources()),
        "answer": {
            "summary": pane["answer"].summary,
            "clauses": [
                {"topic": c.topic, "text": c.text, "source": c.source, "at": c.at} for c in pane["answer"].clauses
            ],
            "next_step": pane["answer"].next_step,
            "zone": pane["answer"].zone,
        },
        "projected_by": pane["projected"].at if pane["projected"] else None,
        "projected_from": str(pane["projected"]) if pane["projected"] else "",
        "late_by_days": pane["late"].days if pane["late"] else None,
        "cancellable": pane["cancellable"],
        "cannot_cancel": pane["cannot_cancel"],
        "refundable": pane["refundable"],
        "lines": [
            {
                "sku": row.line.sku,
                "name": row.line.name,
                "quantity": quantity_value(row.line.quantity),
                "unit": row.line.unit,
                "unit_price": row.line.unit_price,
                "fulfilment_location": row.line.fulfilment_location.code if row.line.fulfilment_location else None,
                "available": row.available,
                "other_channel_price": {
                    "price": row.other.price,
                    "channel": row.other.channel,
                    "source": row.other.system,
                    "seen_at": row.other.seen_at,
                    "same_day": row.other.same_day,
                    "difference": row.difference,
                }
                if row.other
                else None,
            }  # fmt: skip
            for row in pane["lines"]
        ],
        "payments": [{**_fields(p, PaymentOut), "source": p.source.name} for p in pane["payments"]],
        "shipments": [
            {
                **_fields(s, ShipmentOut, skip={"events"}),
                "tracking_url": http_url(s.tracking_url),
                "events": [_fields(e, ScanOut) for e in s.scan_rows],
            }
            for s in pane["shipments"]
        ],
        "returns": [
            {
                "source": r.system,
                "reference": r.reference,
                "status": r.status,
                "line_skus": r.skus,
                "amount": r.amount,
                "requested_at": r.requested_at,
                "received_at": r.received_at,
                "refunded_at": r.refunded_at,
            }
            for r in pane["returns"]
        ],  # fmt: skip
        "timeline": [{"at": e.at, "kind": e.kind, "source": e.source, "summary": e.summary} for e in pane["timeline"]],
    }


# --- shaping ---------------------------------------------------------------------------------
def _fields(obj, schema: type[Schema], skip: frozenset | set = frozenset()) -> dict:
    return {name: getattr(obj, name) for name in schema.model_fields if name not in skip and hasattr(obj, name)}


def _recent_orders(user, customer_ids: list[int]) -> list[Order]:
    if not customer_ids:
        return []
    orders = visible_orders(user).filter(customer_id__in=customer_ids).select_related("store").order_by("-placed_at")
    kept, per_customer = [], {}
    for order in orders[: LOOKUP_ORDERS_PER_CUSTOMER * len(customer_ids) * 4]:
        if per_customer.setdefault(order.customer_id, 0) < LOOKUP_ORDERS_PER_CUSTOMER:
            per_customer[order.customer_id] += 1
            kept.append(order)
    return kept


def _with_systems_and_flags(orders: list[Order]) -> None:
    """Load every order's records and parcels (with their source) and flags in a fixed number of queries."""
    prefetch_related_objects(orders, "records__source", "shipments__source", "flags")


def _customer_out(customer: Customer, matched: list[str], maybe_same_as: list[int]) -> dict:
    identities = customer.identities.all()
    return {
        "id": customer.pk,
        "name": customer.name,
        "emails": distinct([customer.email, *(i.email_normalised for i in identities)]),
        "phones": distinct([customer.phone, *(i.phone_e164 for i in identities)]),
        "loyalty_id": customer.loyalty_id,
        "matched": matched,
        "maybe_same_as": maybe_same_as,
    }


def _order_out(order: Order, matched: list[str], sources: list) -> dict:
    return {
        "id": order.pk,
        "number": order.number,
        "customer_id": order.customer_id,
        "channel": order.channel,
        "fulfilment": order.fulfilment,
        "status": order.status,
        "store": order.store.code if order.store else None,
        "placed_at": order.placed_at,
        "promised_by": order.promised_by,
        "total": order.total,
        "currency": order.currency,
        "systems": {
            p.source.name: {  # a carrier knows the order through its tracker: its id, the tracking number
                "external_id": p.held.external_id,
                "number": p.number,
                "status": p.held.status,
                "raw_status": p.held.raw_status,
                "synced_at": p.held.synced_at,
                "stale": p.stale,
            }
            for p in order_systems(order, sources=sources)
            if p.known
        },
        "flags": [
            {"code": f.code, "opened_at": f.opened_at, "closed_at": f.closed_at, "detail": f.detail}
            for f in order.flags.all()
        ],
        "matched": matched,
    }
