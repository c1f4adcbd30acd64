"""The JSON API for telephony / IVR screen-pop: ``/api/v1/lookup`` and ``/api/v1/orders/<id>``.

Token auth (``Authorization: Token <token>``, tokens from ``manage.py create_api_token``);
the token's user is scoped exactly like the pages (:mod:`orders.access`) and every call
is written to the access log. The OpenAPI document is served at ``/api/v1/schema``
and kept in ``docs/openapi.json``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from functools import wraps

from django.db.models import prefetch_related_objects
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema
from ninja.security import APIKeyHeader

from integrations.adapters.fields import http_url

from . import search
from .access import visible_orders
from .audit import audit
from .models import AccessLog, ApiToken, Customer, Order
from .selectors import distinct, maybe_same_as, order_pane, order_systems, presence_sources

TOKEN_BYTES = 32
LAST_USED_EVERY = timedelta(minutes=1)  # write last_used_at at most this often per token
LOOKUP_ORDERS_PER_CUSTOMER = 5


# --- tokens ------------------------------------------------------------------------------------
def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(user) -> str:
    """A new token for ``user``; only its digest is stored, so this is the one time it can be read."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    ApiToken.objects.create(user=user, prefix=token[:8], digest=token_digest(token))
    return token


class TokenAuth(APIKeyHeader):
    """``Authorization: Token <token>``; a revoked token or an inactive user is refused."""

    param_name = "Authorization"
    openapi_description = (
        "`Authorization: Token <token>`; create one with `python manage.py create_api_token USERNAME`."
    )

    def authenticate(self, request: HttpRequest, key: str | None):
        scheme, _, token = (key or "").partition(" ")
        if scheme.lower() != "token" or not token.strip():
            return None
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token.strip()), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


def signed_in_or_token(view):
    """The OpenAPI document is for integrators: a signed-in user or a valid token, else 401."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs):
        if request.user.is_authenticated or TokenAuth()(request) is not None:
            return view(request, *args, **kwargs)
        return JsonResponse({"detail": "Unauthorized"}, status=401)

    return guarded


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


# --- schemas ---------------------------------------------------------------------------------
class FlagOut(Schema):
    code: str
    opened_at: datetime
    closed_at: datetime | None = None
    detail: str


class SystemOut(Schema):
    external_id: str
    number: str
    status: str
    raw_status: str
    synced_at: datetime
    stale: bool


class CustomerOut(Schema):
    id: int
    name: str
    emails: list[str]
    phones: list[str]
    loyalty_id: str
    matched: list[str]
    maybe_same_as: list[int] = Field(
        description="Other customers an open suggested link says may be the same person: not merged, so their "
        "orders are not listed here; a supervisor (or an agent with the caller verified) settles it on the "
        "customer screen. Empty for store staff."
    )


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int | None
    channel: str
    fulfilment: str
    status: str
    store: str | None
    placed_at: datetime | None
    promised_by: datetime | None
    total: Decimal
    currency: str
    systems: dict[str, SystemOut]
    flags: list[FlagOut]
    matched: list[str]


class LookupOut(Schema):
    query: str
    customers: list[CustomerOut]
    orders: list[OrderOut]


class OtherPriceOut(Schema):
    price: Decimal
    channel: str = Field(description="The other channel: store for a web order's line, web for an in-store sale's.")
    source: str
    seen_at: datetime
    same_day: bool = Field(description="False when the last price seen is from the week before the order's day.")
    difference: Decimal = Field(description="This line's unit price minus the other channel's.")


class LineOut(Schema):
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    fulfilment_location: str | None
    available: int | None = Field(
        description="Units that can be promised at the fulfilment location: the lowest count of the systems "
        "that count it there, net of their reservations; null when none does."
    )
    other_channel_price: OtherPriceOut | None = Field(
        description="S13: the same SKU's price in the other channel on the order's day (else the last in the week "
        "before); null when the other channel did not sell it."
    )


class PaymentOut(Schema):
    kind: str
    status: str
    amount: Decimal
    currency: str
    card_brand: str
    card_last4: str
    receipt_number: str
    processed_at: datetime | None
    source: str


class ScanOut(Schema):
    occurred_at: datetime
    status: str
    message: str
    location: str


class ShipmentOut(Schema):
    carrier: str
    tracking_number: str
    tracking_url: str
    status: str
    shipped_at: datetime | None
    estimated_delivery: datetime | None
    delivered_at: datetime | None
    events: list[ScanOut]


class ReturnOut(Schema):
    source: str = Field(description="The system that reports it: the storefront's refund, the ERP's return receipt.")
    reference: str
    status: str = Field(description="requested, received or refunded")
    line_skus: list[str]
    amount: Decimal | None = Field(description="The refunded amount where the system states one.")
    requested_at: datetime | None
    received_at: datetime | None
    refunded_at: datetime | None


class EventOut(Schema):
    at: datetime
    kind: str
    source: str | None
    summary: str


class ClauseOut(Schema):
    topic: str = Field(description="The question it answers: charged, where, when or cancel (cancel and refund).")
    text: str
    source: str = Field(description="The system whose record is the evidence.")
    at: datetime | None


class AnswerOut(Schema):
    summary: str = Field(description="The clauses in one paragraph, as the agent's answer card shows them.")
    clauses: list[ClauseOut]
    next_step: str = Field(description="What the retailer owes the customer next, from the open flags.")
    zone: str = Field(description="The time zone the days are given in (the order's store's).")


class OrderDetailOut(OrderOut):
    answer: AnswerOut
    projected_by: datetime | None = Field(
        description="The one projected date (orders.standing): delivered, the carrier's estimate, the ERP's "
        "schedule, else the promise; null while a parcel is in a carrier problem."
    )
    projected_from: str = Field(description='Who projects it, e.g. "easypost estimates parcel 1Z…".')
    late_by_days: int | None = Field(description="Whole days past the promise or projection, while not arrived.")
    cancellable: bool
    cannot_cancel: str = Field(
        description='Why not, in words for the customer ("already dispatched"); empty if it can.'
    )
    refundable: Decimal
    lines: list[LineOut]
    payments: list[PaymentOut]
    shipments: list[ShipmentOut]
    returns: list[ReturnOut]
    timeline: list[EventOut]


class ErrorOut(Schema):
    detail: str


# --- endpoints -------------------------------------------------------------------------------
@api.get("/lookup", response=LookupOut, summary="Find customers and orders by anything a caller says")
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


@api.get("/orders/{order_id}", response={200: OrderDetailOut, 404: ErrorOut}, summary="One order, everything known")
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
                "quantity": row.line.quantity,
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
                "events": [_fields(e, ScanOut) for e in s.events.all()],
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
