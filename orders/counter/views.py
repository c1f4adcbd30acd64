"""The store counter's pages: the pickup board, one order's checklist, the handover.

Stores and orders are read through :mod:`orders.access`: a clerk of another store gets
404 for the board, every order and every action, exactly like an unknown id, and
nothing is written. Actions call :mod:`orders.pickup` and nothing else.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from omnidesk.routers import replica_reads

from ..access import visible_orders, visible_stores
from ..audit import audit
from ..freetext import int_or_none
from ..models import AccessLog, Handover, Order, OrderLine, Store
from .selectors import pickup_board, pickup_checklist, pickup_orders
from .services import ACCEPTED_PROOFS, IdentityCheck, PickupError, pickup_handover, pickup_line_check


def _store(request: HttpRequest, code: str) -> Store:
    """The store, if this user may work its counter (store staff: only their own stores)."""
    return get_object_or_404(visible_stores(request.user), code=code)


def _order(request: HttpRequest, store: Store, order_id: int) -> Order:
    orders = pickup_orders(store, visible_orders(request.user)).select_related("store", "customer")
    return get_object_or_404(orders, pk=order_id)


@replica_reads("GET")
@never_cache
@vary_on_headers("HX-Request")
@require_GET
def board(request: HttpRequest, code: str) -> HttpResponse:
    """Every pickup order of the store by stage; htmx re-fetches only the board partial every 30 s."""
    store = _store(request, code)
    shown = pickup_board(store=store, orders=pickup_orders(store, visible_orders(request.user)))
    customer_ids = [card.order.customer_id for cards in shown.columns.values() for card in cards]
    audit(request.user, AccessLog.Action.PICKUP_BOARD, customer_ids=customer_ids, page=request.path, poll=True)
    context = {"board": shown}
    template = "orders/pickup_board.html#board" if request.htmx else "orders/pickup_board.html"
    return render(request, template, context)


@replica_reads("GET")  # the handover's redirect lands here within its writer's sticky window
@never_cache
@vary_on_headers("HX-Request")
@require_GET
def order(request: HttpRequest, code: str, order_id: int) -> HttpResponse:
    store = _store(request, code)
    found = _order(request, store, order_id)
    audit(
        request.user,
        AccessLog.Action.PICKUP_ORDER,
        customer_ids=[found.customer_id],
        order_id=found.pk,
        page=request.path,
    )
    return _order_page(request, store, found)


def _order_page(
    request, store, found, *, error: str = "", field: str = "", typed: dict | None = None, status: int = 200
) -> HttpResponse:
    """The checklist and the handover form; after a refused handover, what the clerk typed with the error
    next to its field (``field``; empty: above the checklist)."""
    context = {
        **pickup_checklist(order=found, store=store),
        "error": error if not field else "",
        "field_error": {field: error} if field else {},
        "typed": typed or {},
        "id_checks": [(m, Handover.IdCheck(m).label) for m in ACCEPTED_PROOFS],
    }
    missing = any(row.check and row.check.state == "missing" for row in context["rows"])
    context["missing"] = missing
    # With a line missing, handing over "all" is not the default: the lines still to hand over are ticked.
    ticked = context["typed"].get("lines")
    if ticked is None:
        ticked = {
            row.line.pk for row in context["rows"] if missing and not (row.check and row.check.state == "missing")
        }
    context["ticked"] = ticked
    template = "orders/pickup_order.html#counter" if request.htmx else "orders/pickup_order.html"
    return render(request, template, context, status=status)


@never_cache
@require_POST
def line_check(request: HttpRequest, code: str, order_id: int, line_id: int) -> HttpResponse:
    """located / picked / missing (with quantity and reason) for one line."""
    store = _store(request, code)
    found = _order(request, store, order_id)
    line = get_object_or_404(OrderLine, pk=line_id, order=found)
    try:
        pickup_line_check(
            order=found,
            line=line,
            state=request.POST.get("state", ""),
            by=request.user,
            missing_quantity=int_or_none(request.POST.get("missing_quantity")) or 0,
            reason=request.POST.get("reason", "").strip(),
        )
    except PickupError as error:
        return _order_page(request, store, found, error=str(error), status=422)
    return _after(request, store, found)


@never_cache
@require_POST
def handover(request: HttpRequest, code: str, order_id: int) -> HttpResponse:
    """Collected (identity checked, maybe partly) or refused with a reason."""
    store = _store(request, code)
    found = _order(request, store, order_id)
    method = request.POST.get("id_check", "")
    check = IdentityCheck(
        name=request.POST.get("name", ""),
        method=method,
        value="yes" if method == Handover.IdCheck.ID_SEEN else request.POST.get("id_value", ""),
    )
    lines = [pk for pk in (int_or_none(v) for v in request.POST.getlist("lines")) if pk]
    refusal = request.POST.get("refusal", "").strip() if request.POST.get("action") == "refuse" else ""
    try:
        if request.POST.get("action") == "refuse" and not refusal:
            raise PickupError("a refusal needs a reason", field="refusal")
        pickup_handover(order=found, by=request.user, check=check, line_ids=lines, refusal=refusal)
    except PickupError as error:
        typed = {
            "name": check.name, "id_check": method, "id_value": request.POST.get("id_value", ""),
            "lines": set(lines), "refusal": request.POST.get("refusal", ""),
        }  # fmt: skip
        return _order_page(request, store, found, error=str(error), field=error.field, typed=typed, status=422)
    return _after(request, store, found)


def _after(request, store, found) -> HttpResponse:
    if request.htmx:
        return _order_page(request, store, found)
    return redirect("pickup_order", store.code, found.pk)
