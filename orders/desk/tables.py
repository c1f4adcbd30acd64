"""The customer's orders as a django-tables2 table (sortable columns stay server-side)."""

from __future__ import annotations

from collections.abc import Iterable

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from ..freetext import int_or_none
from ..models import Flag, Order
from ..timezones import screen_local, utc_quotes_on_screen
from .answer import flag_label

MAX_PER_PAGE = 100


def table_configure(request, table: tables.Table, *, per_page: int) -> tables.Table:
    """django-tables2's RequestConfig, with the ``?per_page=`` a user may ask for capped at MAX_PER_PAGE."""
    tables.RequestConfig(request, paginate=False).configure(table)  # ordering from the request
    asked = int_or_none(request.GET.get(table.prefixed_per_page_field))
    size = min(max(asked or per_page, 1), MAX_PER_PAGE)
    try:
        table.paginate(page=request.GET.get(table.prefixed_page_field, 1), per_page=size)
    except PageNotAnInteger:
        table.page = table.paginator.page(1)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)
    return table


class OrderTable(tables.Table):
    number = tables.Column(verbose_name="Order", orderable=False)
    placed_at = tables.Column(verbose_name="Placed", orderable=False)
    channel = tables.Column(orderable=False)
    store = tables.Column(verbose_name="Store", orderable=False, default="—")
    status = tables.Column(orderable=False)
    total = tables.Column(orderable=False, attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    flags = tables.Column(verbose_name="Flags", empty_values=(), orderable=False)

    class Meta:
        model = Order
        fields = ("number", "placed_at", "channel", "store", "status", "total")
        attrs = {"class": "grid orders", "id": "orders-table"}
        template_name = "orders/table.html"
        row_attrs = {
            "class": lambda record, table: "selected" if record.pk == getattr(table, "selected_id", None) else "",
            "id": lambda record: f"order-row-{record.pk}",
        }
        empty_text = "No orders yet."

    def __init__(self, data, *, open_flags: Iterable[Flag] = (), **kwargs):
        """``open_flags``: the customer's open flags, read once for the screen's header; each row shows its order's."""
        super().__init__(data, **kwargs)
        self.flags_by_order: dict[int, list[Flag]] = {}
        for flag in open_flags:
            self.flags_by_order.setdefault(flag.order_id, []).append(flag)

    def render_number(self, record: Order):
        url = reverse("customer_order", args=[record.customer_id, record.pk])
        return format_html(
            '<a href="{}" hx-get="{}" hx-target="#order-pane" hx-push-url="true" hx-swap="outerHTML">{}</a>',
            url,
            url,
            record.number,
        )

    def render_placed_at(self, record: Order):
        return screen_local(record.placed_at, record.store)

    def render_status(self, record: Order):
        return format_html('<span class="status status-{}">{}</span>', record.status, record.get_status_display())

    def render_total(self, record: Order):
        return f"{record.total:,.2f} {record.currency}"

    def render_flags(self, record: Order):
        flags = self.flags_by_order.get(record.pk, [])
        if not flags:
            return ""
        return format_html_join(
            " ",
            '<span class="badge flag" title="{} ({})">{}</span>',
            ((utc_quotes_on_screen(f.detail, record.store, f.opened_at), f.code, flag_label(f.code)) for f in flags),
        )
