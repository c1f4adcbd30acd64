"""``/worklist/``: every open flag the user may see, filtered and sorted, with the actions to work it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from integrations.models import humanise
from omnidesk.routers import replica_reads

from ..access import visible_orders, visible_stores
from ..audit import audit
from ..flags.actions import CannotReopen, flag_reopen, flag_resolve, flag_snooze, flag_take, flag_unsnooze
from ..flags.codes import SEVERITY, SEVERITY_LABEL
from ..flags.messaging import MESSAGE_CODES, CannotMessage, message_preview, message_send
from ..freetext import REASON_MAX, card_free
from ..models import AccessLog, Flag, Store
from ..timezones import screen_local, utc_quotes_on_screen
from .answer import flag_label
from .forms import NoteForm
from .search import order_url
from .services import note_write
from .tables import ROW_MARK, table_configure, url_for_rows

AGES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "24h": timedelta(days=1), "72h": timedelta(days=3)}


def visible_flags(user):
    """Open flags on the orders this user may see, with their severity for sorting."""
    severity = Case(
        *(When(code=code, then=Value(level)) for code, level in SEVERITY.items()), output_field=IntegerField()
    )
    return (
        Flag.objects.filter(closed_at__isnull=True, order__in=visible_orders(user))
        .select_related("order__customer", "order__store", "owner", "message")
        .annotate(severity=severity)
    )


class FlagFilter(django_filters.FilterSet):
    code = django_filters.ChoiceFilter(
        choices=[(code, flag_label(code)) for code in Flag.Code.values], empty_label="every flag", label="Flag"
    )
    store = django_filters.ModelChoiceFilter(
        field_name="order__store", queryset=Store.objects.none(), empty_label="every store", label="Store"
    )
    age = django_filters.ChoiceFilter(
        choices=[(k, f"open longer than {k}") for k in AGES], method="older_than", empty_label="any age", label="Age"
    )
    owner = django_filters.ChoiceFilter(
        choices=[("me", "mine"), ("nobody", "nobody's")], method="owned_by", empty_label="anyone's", label="Owner"
    )
    snoozed = django_filters.BooleanFilter(method="with_snoozed", widget=forms.CheckboxInput, label="include snoozed")

    class Meta:
        model = Flag
        fields = ["code", "store", "age", "owner", "snoozed"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["store"].queryset = visible_stores(user)

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("snoozed"):
            queryset = queryset.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=timezone.now()))
        return queryset

    def older_than(self, queryset, name, value):
        return queryset.filter(opened_at__lt=timezone.now() - AGES[value]) if value in AGES else queryset

    def owned_by(self, queryset, name, value):
        if value == "me":
            return queryset.filter(owner=self.user)
        if value == "nobody":
            return queryset.filter(owner__isnull=True)
        return queryset

    def with_snoozed(self, queryset, name, value):
        return queryset  # applied in qs: snoozed flags are hidden unless asked for


class FlagTable(tables.Table):
    """The worklist's columns: their headers and sort orders. The rows are :func:`worklist_rows`, written by
    ``orders/worklist_table.html``, which ``worklist.html`` includes with the page's context (not ``render_table``,
    which would not pass the rows): django-tables2's own cell rendering cost more than the rest of the page (about
    80% of the worklist's time at 50 rows; ``docs/scaling.md``)."""

    severity = tables.Column(verbose_name="Severity", order_by=("-severity", "opened_at"))
    code = tables.Column(verbose_name="Flag", orderable=True)
    order = tables.Column(verbose_name="Order", orderable=False)
    customer = tables.Column(verbose_name="Customer", orderable=False)
    store = tables.Column(verbose_name="Store", orderable=False)
    opened_at = tables.Column(verbose_name="Open for", order_by=("opened_at",))
    owner = tables.Column(verbose_name="Owner", orderable=False)
    detail = tables.Column(verbose_name="Evidence", orderable=False)
    actions = tables.Column(verbose_name="", orderable=False)

    class Meta:
        attrs = {"class": "grid worklist", "id": "worklist-table"}
        empty_text = "No open flags here. Nothing is falling between the systems right now."


@dataclass(frozen=True)
class WorklistRow:
    """One flag as its worklist row shows it (each cell escaped already, or plain text the template escapes)."""

    flag: Flag
    severity: str
    label: str
    order_url: str
    opened_local: str
    open_for: str
    detail: str
    snoozed: bool
    actions: dict[str, str]  # action -> the URL its form posts to


FLAG_ACTIONS = ("take", "note", "snooze", "resolve")


def worklist_rows(flags: list[Flag]) -> list[WorklistRow]:
    """The rows of one worklist page. URLs are reversed once per page, not once per row and form."""
    now = timezone.now()
    urls = {action: url_for_rows("flag_action", ROW_MARK, action) for action in FLAG_ACTIONS}
    urls["message_review"] = url_for_rows("message_review", ROW_MARK)
    return [
        WorklistRow(
            flag=flag,
            severity=SEVERITY_LABEL[flag.severity],
            label=flag_label(flag.code),
            order_url=order_url(flag.order),
            opened_local=screen_local(flag.opened_at, flag.order.store),
            open_for=humanise(now - flag.opened_at),
            detail=utc_quotes_on_screen(flag.detail, flag.order.store, flag.opened_at),
            snoozed=bool(flag.snoozed_until and flag.snoozed_until > now),
            actions={action: url(flag.pk) for action, url in urls.items()},
        )
        for flag in flags
    ]


@replica_reads("GET")
@never_cache
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    flags = visible_flags(request.user)
    counts = dict(flags.order_by().values_list("code").annotate(n=Count("id")))
    filtered = FlagFilter(request.GET, queryset=flags.order_by("-severity", "opened_at"), user=request.user)
    table = FlagTable(filtered.qs)
    table_configure(request, table, per_page=50)
    rows = worklist_rows([row.record for row in table.page.object_list])
    audit(
        request.user,
        AccessLog.Action.WORKLIST,
        customer_ids=[row.flag.order.customer_id for row in rows],
        page=request.path,
    )
    context = {
        "filter": filtered,
        "table": table,
        "rows": rows,
        "counts": [(code, flag_label(code), counts.get(code, 0)) for code in Flag.Code.values],
        "total": sum(counts.values()),
        "message_codes": MESSAGE_CODES,
    }
    return render(request, "orders/worklist.html", context)


class SnoozeForm(forms.Form):
    hours = forms.IntegerField(min_value=1, max_value=24 * 14, initial=24)
    reason = forms.CharField(max_length=REASON_MAX, validators=[card_free])


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX, validators=[card_free])


def _errors(form: forms.Form) -> str:
    return " ".join(f"{form[name].label}: {' '.join(errors)}" for name, errors in form.errors.items())


def _back(request: HttpRequest, value: str) -> str:
    if url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return value
    return reverse("worklist")


@never_cache
@require_GET
def message_review(request: HttpRequest, flag_id: int) -> HttpResponse:
    """ "Tell the customer": the message as it would go, to read before sending (and why it may not go)."""
    flag = get_object_or_404(visible_flags(request.user).select_related("order__customer", "order__store"), pk=flag_id)
    back = _back(request, request.GET.get("next", ""))
    try:
        preview = message_preview(flag)
    except CannotMessage as reason:
        preview = {"to": "", "subject": "", "body": "", "problem": str(reason)}
    audit(
        request.user,
        AccessLog.Action.ORDER,
        customer_ids=[flag.order.customer_id],
        order_id=flag.order_id,
        page="message review",
    )
    return render(request, "orders/message_review.html", {"flag": flag, "preview": preview, "next": back})


UNDO = "undo"  # a message's extra tag: the flash carries an undo button (templates/base.html)


def _done(request, flag, text: str, undo: str) -> None:
    """Say what was done, with the action that undoes it (rendered as a button beside the message)."""
    messages.success(request, text, extra_tags=f"{UNDO} {undo}:{flag.pk}")


@require_POST
def flag_action(request: HttpRequest, flag_id: int, action: str) -> HttpResponse:
    """Take, snooze, resolve, note or message one flag; back to the worklist (htmx re-selects the table)."""
    flags = (
        Flag.objects.filter(order__in=visible_orders(request.user))
        if action == "reopen"
        else visible_flags(request.user)
    )
    flag = get_object_or_404(flags.select_related("order"), pk=flag_id)
    back = _back(request, request.POST.get("next", ""))
    if action == "take":
        flag_take(flag, by=request.user)
    elif action == "snooze":
        form = SnoozeForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Snooze {flag.code} on {flag.order.number}: {_errors(form)}")
            return redirect(back)
        until = timezone.now() + timedelta(hours=form.cleaned_data["hours"])
        flag_snooze(flag, by=request.user, until=until, reason=form.cleaned_data["reason"])
        _done(
            request,
            flag,
            f"Snoozed {flag_label(flag.code)} on {flag.order.number} for {form.cleaned_data['hours']} h.",
            "unsnooze",
        )
    elif action == "resolve":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Resolve {flag.code} on {flag.order.number}: {_errors(form)}")
            return redirect(back)
        flag_resolve(flag, by=request.user, reason=form.cleaned_data["reason"])
        _done(request, flag, f"Resolved {flag_label(flag.code)} on {flag.order.number}.", "reopen")
    elif action == "unsnooze":
        if flag_unsnooze(flag, by=request.user):
            messages.success(request, f"{flag_label(flag.code)} on {flag.order.number} is back in the queue.")
    elif action == "reopen":
        try:
            flag_reopen(flag, by=request.user)
            messages.success(request, f"{flag_label(flag.code)} on {flag.order.number} is open again.")
        except CannotReopen as reason:
            messages.error(request, f"Cannot undo: {reason}")
    elif action == "note":
        form = NoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Note on {flag.order.number}: {' '.join(form.errors.get('body', []))}")
            return redirect(back)
        note_write(
            order=flag.order,
            customer=flag.order.customer,
            author=request.user,
            body=f"[{flag.code}] {form.cleaned_data['body']}",
        )
    elif action == "message":
        try:
            sent = message_send(flag, by=request.user)
            messages.success(request, f"Message to {sent.to} queued: {sent.subject}")
        except CannotMessage as reason:
            messages.error(request, f"No message for {flag.order.number}: {reason}")
    else:
        return HttpResponse(status=404)
    return redirect(back)
