"""The customer's orders as a django-tables2 table (sortable columns stay server-side)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.urls import reverse

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


ROW_MARK = 2_147_483_647  # an id no table reaches: a URL is reversed once per page with it, then given each row's


def url_for_rows(name: str, *args) -> Callable[[int], str]:
    """``reverse(name, args)`` for every row of a page at the cost of one ``reverse``: :data:`ROW_MARK` among
    ``args`` stands for the row's id."""
    url, mark = reverse(name, args=args), str(ROW_MARK)
    return lambda pk: url.replace(mark, str(pk))


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One order as its row in the customer's orders shows it: each cell worked out once here."""

    pk: int
    url: str
    number: str
    placed: str
    channel: str
    store: str
    status: str
    status_label: str
    total: str
    flags: list[tuple[str, str, str]]  # (evidence, code, label) of each open flag
    selected: bool  # the order the pane shows


class OrderTable(tables.Table):
    """The customer's orders: django-tables2 gives the columns and the pages; :meth:`rows_shown` the cells, written by
    ``orders/table.html`` in one pass (its per-cell rendering cost more than the rest of the screen: an
    ``inspect.signature`` and the column's attributes for each of 175 cells; ``docs/scaling.md``)."""

    number = tables.Column(verbose_name="Order", orderable=False)
    placed_at = tables.Column(verbose_name="Placed", orderable=False)
    channel = tables.Column(orderable=False)
    store = tables.Column(verbose_name="Store", orderable=False)
    status = tables.Column(orderable=False)
    total = tables.Column(orderable=False, attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    flags = tables.Column(verbose_name="Flags", empty_values=(), orderable=False)

    class Meta:
        model = Order
        fields = ("number", "placed_at", "channel", "store", "status", "total")
        attrs = {"class": "grid orders", "id": "orders-table"}
        template_name = "orders/table.html"
        empty_text = "No orders yet."

    def __init__(self, data, *, open_flags: Iterable[Flag] = (), selected_id: int | None = None, **kwargs):
        """``open_flags``: the customer's open flags, read once for the screen's header; each row shows its order's."""
        super().__init__(data, **kwargs)
        self.selected_id = selected_id
        self.flags_by_order: dict[int, list[Flag]] = {}
        for flag in open_flags:
            self.flags_by_order.setdefault(flag.order_id, []).append(flag)

    def rows_shown(self) -> list[OrderRow]:
        """This page's rows (after :func:`table_configure`), the order links reversed once for the page."""
        orders = [row.record for row in self.page.object_list]
        link = url_for_rows("customer_order", orders[0].customer_id, ROW_MARK) if orders else None
        return [
            OrderRow(
                pk=order.pk,
                url=link(order.pk),
                number=order.number,
                placed=screen_local(order.placed_at, order.store),
                channel=order.get_channel_display(),
                store=order.store.name if order.store else "—",
                status=order.status,
                status_label=order.get_status_display(),
                total=f"{order.total:,.2f} {order.currency}",
                flags=[
                    (utc_quotes_on_screen(f.detail, order.store, f.opened_at), f.code, flag_label(f.code))
                    for f in self.flags_by_order.get(order.pk, ())
                ],
                selected=order.pk == self.selected_id,
            )
            for order in orders
        ]
