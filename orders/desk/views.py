"""The agent's pages: universal search, the customer and order screen, notes, caller lookup, own settings.

Every object is read through :mod:`orders.access`, so an order or customer outside a
store-staff user's stores is a 404, exactly like one that does not exist. Pages that
show personal data are never cached and write an access-log row.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from omnidesk.routers import replica_reads

from ..access import role, store_ids, visible_customers, visible_orders
from ..audit import audit
from ..catalogue.identity import normalise_phone
from ..catalogue.merges import customer_link_decide
from ..freetext import int_or_none
from ..models import AccessLog, Customer, CustomerMerge, Order, StaffPreference, Store
from ..roles import STORE_STAFF
from ..timezones import SESSION_KEY
from . import search
from .forms import NoteForm, PreferenceForm, VerifyForm
from .links import suggested_links
from .selectors import customer_header, customer_orders, order_pane, sync_overview, verified_on_this_call
from .services import identity_verified_log, note_write, time_zone_choose, time_zone_of
from .tables import OrderTable, table_configure

ORDERS_PER_PAGE = 25


# --- search --------------------------------------------------------------------------------
@replica_reads("GET", "POST")  # a POST only to keep the terms out of URLs: it reads
@never_cache
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """One search box. Terms come by POST so personal data never sits in a URL or an access log.

    As the agent types, htmx posts the box and swaps the results in. Enter (or the
    form without JavaScript) opens the one exact hit straight away.
    """
    if request.method == "GET":
        if role(request.user) == STORE_STAFF and store_ids(request.user):  # a clerk lands on their store's board
            first = Store.objects.filter(pk__in=store_ids(request.user)).order_by("name").first()
            return redirect("pickup_board", first.code)
        return render(request, "orders/search.html", {"results": None, "q": ""})
    q = request.POST.get("q", "")
    results = search.search(request.user, q)
    if results.hits:
        audit(request.user, AccessLog.Action.SEARCH, customer_ids=results.customer_ids)
    go = request.POST.get("go") == "1"
    if go and results.sole_exact:
        url = results.sole_exact.url
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    template = "orders/search.html#results" if request.htmx else "orders/search.html"
    return render(request, template, {"results": results, "q": results.reading.text})


@replica_reads("GET")
@never_cache
@require_GET
def caller_lookup(request: HttpRequest) -> HttpResponse:
    """Screen-pop for telephony: ``/lookup?phone=…`` opens the caller's customer, or lists the candidates."""
    raw = request.GET.get("phone", "")
    phone = normalise_phone(raw)
    results = search.search(request.user, phone or raw) if raw.strip() else None
    customers = [hit for hit in results.hits if hit.kind == "customer"] if results else []
    audit(request.user, AccessLog.Action.CALLER, customer_ids=[h.customer.pk for h in customers])
    if len(customers) == 1:
        return redirect("customer", customers[0].customer.pk)
    results = search.Results(reading=results.reading, hits=customers) if results else None
    return render(request, "orders/search.html", {"results": results, "q": raw, "caller": True})


# --- the customer and order screen ------------------------------------------------------
@replica_reads("GET")
@never_cache
@vary_on_headers("HX-Request")
@require_GET
def customer(request: HttpRequest, customer_id: int, order_id: int | None = None) -> HttpResponse:
    """The customer header, all their orders, and one order's pane.

    Clicking an order in the table swaps only the pane (htmx, URL pushed); the same
    URL without htmx, or on a history restore, renders the whole page.
    """
    person = visible_customers(request.user).filter(pk=customer_id).first()
    visible = visible_orders(request.user).select_related("store")  # its systems come with the pane's
    if order_id is not None:
        selected = get_object_or_404(visible, pk=order_id)
        if person is None or selected.customer_id != person.pk:
            # A link from before a merge or a re-correlation: the order now shows on another screen.
            target = reverse("order", args=[selected.pk])
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    elif person is None:
        merge = CustomerMerge.objects.filter(merged_customer_id=customer_id, reversed_at__isnull=True).first()
        if merge is None or not visible_customers(request.user).filter(pk=merge.survivor_id).exists():
            raise Http404("No customer you can see has this id.")
        target = reverse("customer", args=[merge.survivor_id])  # merged into another since the link was made
        return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    orders = visible_orders(request.user).filter(customer=person)
    if order_id is None:
        selected = visible.filter(customer=person).order_by("-placed_at", "-id").first()
    pane = order_pane(selected) if selected else None
    audit(
        request.user,
        AccessLog.Action.ORDER if order_id else AccessLog.Action.CUSTOMER,
        customer_ids=[person.pk],
        order_id=selected.pk if selected else None,
    )
    if request.htmx and not request.htmx.history_restore_request and order_id is not None:
        html = render_to_string("orders/customer.html#order-pane", {"pane": pane, "customer": person}, request)
        html += render_to_string("orders/customer.html#note-target", {"target_order": selected, "oob": True}, request)
        return HttpResponse(html)
    return _customer_page(request, person, orders, selected, pane)


def _customer_page(
    request, person, orders, selected, pane, note_form=None, status=200, verify_form=None
) -> HttpResponse:
    header = customer_header(person, orders=orders)
    table = OrderTable(customer_orders(orders), open_flags=header["open_flags"], selected_id=selected and selected.pk)
    table_configure(request, table, per_page=ORDERS_PER_PAGE)
    context = {
        **header,
        "links": suggested_links(person, request.user, verified=header["verified"]),
        "table": table,
        "pane": pane,
        "note_form": note_form or NoteForm(),
        "verify_form": verify_form or VerifyForm(),
        "target_order": selected,
    }
    return render(request, "orders/customer.html", context, status=status)


@replica_reads("GET")
@never_cache
@require_GET
def order(request: HttpRequest, order_id: int) -> HttpResponse:
    """An order by its OmniDesk id: its customer's screen, or the order alone (a guest, an unmatched sale)."""
    found = get_object_or_404(visible_orders(request.user).select_related("store", "customer"), pk=order_id)
    if found.customer_id:
        return redirect("customer_order", found.customer_id, found.pk)
    audit(request.user, AccessLog.Action.ORDER, order_id=found.pk)
    return render(request, "orders/order.html", {"pane": order_pane(found), "note_form": NoteForm()})


# --- notes and the interaction log ------------------------------------------------------
@never_cache
@require_POST
def note_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A note on the customer, or on one of their orders; it shows in the timeline at once."""
    person = get_object_or_404(visible_customers(request.user), pk=customer_id)
    form = NoteForm(request.POST)
    on_order = None
    if form.is_valid() and form.cleaned_data.get("order"):
        on_order = get_object_or_404(visible_orders(request.user), pk=form.cleaned_data["order"], customer=person)
    if form.is_valid():
        note_write(customer=person, order=on_order, author=request.user, body=form.cleaned_data["body"])
        form = NoteForm()
    if not request.htmx:
        if form.is_bound:  # invalid: the page again, the error next to the field
            orders = visible_orders(request.user).filter(customer=person)
            selected = on_order or orders.order_by("-placed_at", "-id").first()
            pane = order_pane(selected) if selected else None
            return _customer_page(request, person, orders, selected, pane, note_form=form, status=400)
        return redirect(_back(person, on_order))
    shown = visible_orders(request.user).filter(customer=person, pk=int_or_none(request.POST.get("shown"))).first()
    context = {
        **customer_header(person, orders=visible_orders(request.user)),
        "note_form": form,
        "target_order": on_order or shown,
    }
    html = render_to_string("orders/customer.html#notes", context, request=request)
    if on_order is not None and not form.is_bound:  # the note joins the order's timeline at once
        pane = order_pane(on_order)
        html += render_to_string(
            "orders/customer.html#timeline", {"pane": pane, "order": on_order, "oob": True}, request=request
        )
    return HttpResponse(html, status=422 if form.is_bound else 200)


@never_cache
@require_POST
def identity_verified(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Log "identity verified on this call" so the next agent today does not ask again."""
    person = get_object_or_404(visible_customers(request.user), pk=customer_id)
    form = VerifyForm(request.POST)
    if not form.is_valid():  # the screen again, the error next to the field
        if not request.htmx:
            orders = visible_orders(request.user).filter(customer=person)
            selected = orders.order_by("-placed_at", "-id").first()
            return _customer_page(
                request,
                person,
                orders,
                selected,
                order_pane(selected) if selected else None,
                status=400,
                verify_form=form,
            )
        header = customer_header(person, orders=visible_orders(request.user))
        return render(request, "orders/customer.html#verified", {**header, "verify_form": form}, status=422)
    identity_verified_log(customer=person, author=request.user, method=form.cleaned_data["method"])
    if not request.htmx:
        return redirect("customer", person.pk)
    header = customer_header(person, orders=visible_orders(request.user))
    context = {**header, "verify_form": VerifyForm(), "oob": True}
    context["links"] = suggested_links(person, request.user, verified=header["verified"])
    html = render_to_string("orders/customer.html#verified", context, request)
    html += render_to_string("orders/customer.html#links", context, request)  # an agent may now settle them
    return HttpResponse(html)


@never_cache
@require_POST
def customer_link(request: HttpRequest, customer_id: int, link_id: int) -> HttpResponse:
    """Settle a suggested link from the customer's screen: the same person (merged) or not (never again)."""
    person = get_object_or_404(visible_customers(request.user), pk=customer_id)
    verified = verified_on_this_call(person)  # only what deciding needs, not the whole header
    shown = {s.link.pk: s for s in suggested_links(person, request.user, verified=verified)}
    if link_id not in shown:
        raise Http404("no such suggestion on this customer")
    if not shown[link_id].can_decide:
        return HttpResponse("Verify the caller's identity first (or ask a supervisor).", status=403)
    decision = request.POST.get("decision")
    if decision not in ("same", "different"):
        return HttpResponse("Say whether they are the same person.", status=400)
    try:
        survivor = customer_link_decide(link=shown[link_id].link, same_person=decision == "same", by=request.user)
    except ValueError as error:
        return HttpResponse(str(error), status=409)
    target = reverse("customer", args=[survivor.pk if decision == "same" else person.pk])
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


def _back(person: Customer, order: Order | None) -> str:
    if order is not None:
        return reverse("customer_order", args=[person.pk, order.pk])
    return reverse("customer", args=[person.pk])


# --- supervision ------------------------------------------------------------------------------
@replica_reads("GET")
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """Sync health per source: how fresh each system's data is; counts of the orders this user may see."""
    overview = sync_overview(orders=visible_orders(request.user), customers=visible_customers(request.user))
    return render(request, "orders/health.html", overview)


# --- one's own settings ----------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own settings: the time zone of every screen they open."""
    preference = StaffPreference(user=request.user, time_zone=time_zone_of(request.user))
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        time_zone_choose(user=request.user, time_zone=form.cleaned_data["time_zone"])
        request.session[SESSION_KEY] = form.cleaned_data["time_zone"]
        return redirect("preferences")
    return render(request, "orders/preferences.html", {"form": form}, status=400 if form.is_bound else 200)


def time_zone_remember(sender, request, user, **kwargs) -> None:
    """At sign-in, the zone the person chose goes into their session (no query per page after that)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = time_zone_of(user)
