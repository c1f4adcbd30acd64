"""Pure mapping of Odoo ``search_read`` rows to OmniDesk records.

Odoo's wire conventions, read the tolerant way for every field:

* ``false`` is Odoo's null: an empty char field, an unset many2one, an unset date all
  arrive as ``false`` and read as "" / ``None``. Booleans are the one exception.
* A many2one is ``[id, "Display Name"]``.
* Datetimes are ``"YYYY-MM-DD HH:MM:SS"`` in UTC with no zone; UTC is attached here.
  Dates (``"YYYY-MM-DD"``) are midnight UTC.
* A field the adapter asked for (:data:`FIELDS`) but the row lacks is an error: Odoo
  always answers every requested field, so its absence means a truncated payload.

Anything else of the wrong type raises :class:`MappingError` naming ``<model>.<field>``.

Status tables
-------------
``sale.order.state`` -> order lifecycle (:data:`ORDER_STATUS`): draft/sent are
quotations (placed); a confirmed order (sale, and Odoo ≤16's done) is in_erp — the
pickings carry the progress from there; cancel is cancelled. Unknown states raise.

``stock.picking`` -> picking lifecycle (first matching row wins, :func:`picking_status`):

==  ===========================================  ================
 #  condition                                    status
==  ===========================================  ================
 1  state cancel                                 cancelled
 2  incoming (a return receipt), state done      returned
 3  incoming, any other state                    return_requested
 4  outgoing, state done                         handed_to_carrier
 5  internal (pick/pack step), state done        picked
 6  ``user_id`` set (someone must prepare it)    assigned
 7  anything else (draft/waiting/confirmed/      in_erp
    assigned without a responsible)
==  ===========================================  ================

Odoo's own ``assigned`` state means "stock reserved", not "a person was told", so the
lifecycle's ``assigned`` comes from ``user_id`` (the responsible), whatever the state.
A done outgoing picking has left the warehouse: with a ``carrier_tracking_ref`` (one
tracking number per package, comma-joined when there are several: :func:`tracking_numbers`) it is
with the carrier; without one it went by the retailer's own van or over the pickup
counter, and the ERP cannot tell which — handed_to_carrier is the conservative claim
(never "collected" or "delivered"); the storefront, POS and carrier report the rest.

Choices Odoo leaves open:

* Customers on orders carry only ``partner_id``'s id and name; the ``partners`` stream
  carries e-mail, phone and ``ref`` (the loyalty id). Ingest must merge, not overwrite.
* Location ids are **warehouse** ids everywhere (one Odoo warehouse per store is the
  convention; ``stock.warehouse`` is the ``locations`` stream). Quants and pickings
  name a ``stock.location``; the adapter resolves it to its warehouse while fetching
  and adds it to the row as :data:`WAREHOUSE_KEY`.
* ``stock.quant`` quantities are floats; ``on_hand`` is rounded down and ``reserved``
  up, so available stock (on hand − reserved) is never overstated.
* A move's done quantity is ``quantity`` only once the move is ``picked`` or done
  (Odoo 17+: before that, ``quantity`` is what is merely reserved).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..records import (
    CustomerRecord,
    LocationRecord,
    MappingError,
    MoveRecord,
    PickingLineRecord,
    PickingRecord,
    StockRecord,
    UpstreamOrder,
)
from .fields import enum, json_object, store_code, text

# What the adapter asks for, per model. Left out on purpose (a field that does not exist
# makes Odoo refuse the whole call): res.partner ``mobile`` (dropped in Odoo 19),
# stock.picking ``carrier_id`` (only with the stock_delivery module) and
# stock.warehouse ``partner_id`` (unused). The mappers read them when present.
FIELDS: dict[str, list[str]] = {
    "stock.warehouse": ["id", "name", "code", "write_date"],
    "res.partner": ["id", "name", "email", "phone", "ref", "customer_rank", "write_date"],
    "sale.order": [
        "id", "name", "client_order_ref", "origin", "partner_id", "state", "amount_total",
        "currency_id", "date_order", "commitment_date", "write_date", "warehouse_id",
        "picking_ids",
    ],
    "stock.picking": [
        "id", "name", "origin", "sale_id", "user_id", "state", "scheduled_date",
        "date_deadline", "date_done", "location_id", "location_dest_id",
        "picking_type_code", "carrier_tracking_ref", "write_date",
    ],
    "stock.move": [
        "id", "picking_id", "product_id", "product_uom_qty", "quantity", "picked", "state",
        "write_date",
    ],
    "stock.quant": [
        "id", "product_id", "location_id", "quantity", "reserved_quantity", "write_date",
    ],
}  # fmt: skip

# Added by the adapter to quant and picking rows: the warehouse of their stock location.
WAREHOUSE_KEY = "_omnidesk_warehouse_id"

ORDER_STATUS = {
    "draft": "placed",
    "sent": "placed",
    "sale": "in_erp",
    "done": "in_erp",
    "cancel": "cancelled",
}
PICKING_STATES = frozenset({"draft", "waiting", "confirmed", "assigned", "done", "cancel"})
PICKING_KINDS = {
    "outgoing": "outgoing",
    "incoming": "incoming",
    "internal": "internal",
    "dropship": "outgoing",  # Odoo 18 stock_dropshipping: leaves to the customer too
}
PRODUCT_DISPLAY_NAME = re.compile(r"^\[(?P<sku>[^\]]+)\]")
ODOO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d{1,6})?)?")


# -- public mappers ----------------------------------------------------------------------
def map_location(payload: Any) -> LocationRecord:
    """A warehouse: one per store by convention, its code the slug of its name."""
    where = "stock.warehouse"
    warehouse = _row(payload, where)
    name = _text(warehouse, "name", where)
    code = store_code(name, where)
    return LocationRecord(
        external_id=_id(warehouse, "id", where),
        name=name,
        code=code,
        kind="warehouse" if "warehouse" in name.lower() else "store",
    )


def map_partner(payload: Any) -> CustomerRecord:
    where = "res.partner"
    partner = _row(payload, where)
    email = _text(partner, "email", where)
    phones = (_text(partner, key, where) for key in ("phone", "mobile"))
    return CustomerRecord(
        external_id=_id(partner, "id", where),
        name=_text(partner, "name", where),
        emails=[email] if email else [],
        phones=_unique(phone for phone in phones if phone),
        loyalty_id=_text(partner, "ref", where),
        updated_at=_when(partner, "write_date", where),
    )


def map_order(payload: Any) -> UpstreamOrder:
    where = "sale.order"
    order = _row(payload, where)
    number = _text(order, "name", where)
    references = (_text(order, key, where) for key in ("client_order_ref", "origin"))
    state = _enum(order, "state", where, ORDER_STATUS)
    currency = _many2one(order, "currency_id", where)
    if currency is None:
        raise MappingError(f"{where}.currency_id is missing")
    partner = _many2one(order, "partner_id", where)
    warehouse = _many2one(order, "warehouse_id", where)
    return UpstreamOrder(
        external_id=_id(order, "id", where),
        number=number,
        references=_unique(ref for ref in references if ref and ref != number),
        channel="web",
        location_id=warehouse[0] if warehouse else "",
        raw_status=state,
        status=ORDER_STATUS[state],
        placed_at=_when(order, "date_order", where),
        updated_at=_when(order, "write_date", where),
        promised_by=_when(order, "commitment_date", where),
        currency=currency[1],
        total=_number(order, "amount_total", where),
        customer=CustomerRecord(external_id=partner[0], name=partner[1]) if partner else None,
    )


def map_picking(payload: Any) -> PickingRecord:
    where = "stock.picking"
    picking = _row(payload, where)
    state = _enum(picking, "state", where, PICKING_STATES)
    kind = PICKING_KINDS[_enum(picking, "picking_type_code", where, PICKING_KINDS)]
    sale = _many2one(picking, "sale_id", where)
    user = _many2one(picking, "user_id", where)
    carrier = _many2one(picking, "carrier_id", where)
    warehouse = _many2one(picking, WAREHOUSE_KEY, where)
    return PickingRecord(
        external_id=_id(picking, "id", where),
        name=_text(picking, "name", where),
        # A return's origin is "Return of WH/OUT/…"; the sale order names the order.
        order_reference=sale[1] if sale else _text(picking, "origin", where),
        order_external_id=sale[0] if sale else "",
        kind=kind,
        raw_status=state,
        status=picking_status(state=state, kind=kind, assigned=user is not None),
        assigned_to=user[1] if user else "",
        location_id=warehouse[0] if warehouse else "",
        scheduled_at=_when(picking, "scheduled_date", where),
        done_at=_when(picking, "date_done", where),
        tracking_numbers=tracking_numbers(_text(picking, "carrier_tracking_ref", where)),
        carrier=carrier[1] if carrier else "",
        updated_at=_when(picking, "write_date", where),
    )


def tracking_numbers(reference: str) -> list[str]:
    """A picking's ``carrier_tracking_ref``: one number per package, comma-joined by Odoo's carrier connectors.

    ``delivery_fedex``, ``delivery_ups``, ``delivery_usps`` write every package's number,
    ``"794608181111,794608182222"``; each is a parcel the carrier tracks on its own.
    """
    return list(dict.fromkeys(number.strip() for number in reference.split(",") if number.strip()))


def picking_status(*, state: str, kind: str, assigned: bool) -> str:
    """The lifecycle of a picking: the table in this module's docstring, in code."""
    if state == "cancel":
        return "cancelled"
    if kind == "incoming":
        return "returned" if state == "done" else "return_requested"
    if state == "done":
        return "handed_to_carrier" if kind == "outgoing" else "picked"
    return "assigned" if assigned else "in_erp"


def map_move(payload: Any) -> MoveRecord:
    where = "stock.move"
    move = _row(payload, where)
    external_id = _id(move, "id", where)
    state = _text(move, "state", where)
    picked = move["picked"]
    if not isinstance(picked, bool):
        raise MappingError(f"{where}.picked must be a boolean, got {type(picked).__name__}")
    moved = _number(move, "quantity", where)
    picking = _many2one(move, "picking_id", where)
    return MoveRecord(
        external_id=external_id,
        picking_external_id=picking[0] if picking else "",
        line=PickingLineRecord(
            external_id=external_id,
            sku=product_sku(move, "product_id", where),
            quantity=_number(move, "product_uom_qty", where),
            done_quantity=moved if picked or state == "done" else Decimal(0),
            state=state,
        ),
        updated_at=_when(move, "write_date", where),
    )


def map_stock(payload: Any) -> StockRecord:
    where = "stock.quant"
    quant = _row(payload, where)
    if WAREHOUSE_KEY not in quant:
        raise MappingError(f"{where}.{WAREHOUSE_KEY} is missing (the adapter adds it)")
    warehouse = _many2one(quant, WAREHOUSE_KEY, where)
    if warehouse is None:
        location = _many2one(quant, "location_id", where)
        raise MappingError(f"{where}.location_id {location} belongs to no warehouse")
    place = _many2one(quant, "location_id", where)
    return StockRecord(
        sku=product_sku(quant, "product_id", where),
        location_id=warehouse[0],
        bin=quant_bin(place[1] if place else ""),
        part=str(quant.get("id") or ""),
        on_hand=math.floor(_number(quant, "quantity", where)),
        reserved=math.ceil(_number(quant, "reserved_quantity", where)),
        counted_at=_when(quant, "write_date", where),
    )


def quant_bin(location_name: str) -> str:
    """The shelf place of a quant: its location's full name when it lies below the warehouse's stock.

    ``"DT/Stock/B-07"`` is a bin; ``"DT/Stock"`` (the warehouse's stock location itself) is none.
    """
    return location_name.strip() if location_name.count("/") >= 2 else ""


def product_sku(row: Mapping[str, Any], key: str, where: str) -> str:
    """The SKU in a product's display name ``"[SKU] Name"`` (Odoo's ``default_code``).

    A product without an internal reference gets ``odoo-product-<id>``: stable, and by
    design never equal to another system's SKU.
    """
    product = _many2one(row, key, where)
    if product is None:
        raise MappingError(f"{where}.{key} is missing")
    found = PRODUCT_DISPLAY_NAME.match(product[1])
    sku = found["sku"].strip() if found else ""
    return sku or f"odoo-product-{product[0]}"


# -- field readers: each raises MappingError naming the field ------------------------------
def _row(payload: Any, where: str) -> Mapping[str, Any]:
    payload = json_object(payload, where)
    for name in FIELDS[where]:
        if name not in payload:
            raise MappingError(f"{where}.{name} is missing")
    return payload


def _id(row: Mapping[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MappingError(f"{where}.{key} is missing or not an id: {value!r}")
    return str(value)


def _text(row: Mapping[str, Any], key: str, where: str) -> str:
    """A char field; ``false`` (and a field the row lacks) reads as ``""``."""
    return "" if row.get(key, False) is False else text(row, key, where)


def _enum(row: Mapping[str, Any], key: str, where: str, allowed: Collection[str]) -> str:
    return enum(row, key, where, allowed, read=_text)


def _many2one(row: Mapping[str, Any], key: str, where: str) -> tuple[str, str] | None:
    """``[id, "Display Name"]`` -> ``("id", "Display Name")``; ``false`` -> ``None``."""
    value = row.get(key, False)
    if value is False or value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or isinstance(value[0], bool)
        or not isinstance(value[0], int)
        or not isinstance(value[1], str | bool)
    ):
        raise MappingError(f"{where}.{key} must be a many2one [id, name] pair, got {value!r}")
    return str(value[0]), (value[1] or "").strip()


def _number(row: Mapping[str, Any], key: str, where: str) -> Decimal:
    """A float or monetary field as ``Decimal`` (through ``str``, so 19.99 stays 19.99)."""
    value = row.get(key, False)
    if value is False or value is None:
        return Decimal(0)
    if not isinstance(value, int | float):
        raise MappingError(f"{where}.{key} must be a number, got {type(value).__name__}")
    number = Decimal(str(value))
    if not number.is_finite():
        raise MappingError(f"{where}.{key} is not a number: {value!r}")
    return number


def _when(row: Mapping[str, Any], key: str, where: str) -> datetime | None:
    return parse_datetime(row.get(key, False), f"{where}.{key}")


def parse_datetime(value: Any, field: str) -> datetime | None:
    """Odoo's zone-less UTC ``"YYYY-MM-DD HH:MM:SS"`` (or a date: midnight UTC), aware."""
    if value is False or value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"{field} must be an Odoo date-time string, got {type(value).__name__}")
    text = value.strip()
    try:
        if not ODOO_DATETIME.fullmatch(text):
            raise ValueError
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise MappingError(f"{field} is not an Odoo date-time 'YYYY-MM-DD HH:MM:SS': {value!r}") from None


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
