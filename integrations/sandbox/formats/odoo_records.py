"""Odoo records as ``search_read`` returns them, one renderer per model.

Wire conventions: many2one ``[id, "Name"]``, null ``false``, datetimes zone-less UTC
text. ``MODELS`` also names, per model, the fields that never change (served from a
static index for ``=``/``in`` leaves) and the field ``wrong_type`` corruption breaks.
"""

from __future__ import annotations

from ..model import odoo_dt
from . import e164_spaced

CUSTOMERS = [5, "Partners/Customers"]
COMPANY = [1, "OmniDesk Retail"]


def _m2o(ident, name):
    return [ident, name] if ident else False


def _dt(t):
    return odoo_dt(t) if t is not None else False


def _partner(person):
    return _m2o(person.odoo_id, person.name) if person is not None and person.odoo_id else False


def _product(product):
    return [product.odoo_id, f"[{product.sku}] {product.name}"]


def _stock_location(store):
    return [store.odoo_location_id, f"{store.odoo_code}/Stock"]


# --- records ---------------------------------------------------------------------------------
def sale_order(world, o, now, updated):
    cancelled = o.cancel is not None and o.cancel <= now
    pickings = [o.out_picking.id]
    back = o.back_picking is not None and o.back_picking.created <= now
    if back:
        pickings.append(o.back_picking.id)
    if o.ret_picking is not None and o.ret_request <= now:
        pickings.append(o.ret_picking.id)
    place = o.store if o.kind == "pickup" else world.warehouse
    delivered = "full" if o.done is not None and o.done <= now else "pending"
    if back and (o.back_done is None or o.back_done > now):
        delivered = "partial"
    return {
        "id": o.so_id, "name": o.so_name, "display_name": o.so_name, "client_order_ref": o.number, "origin": o.number,
        "partner_id": _partner(o.person), "state": "cancel" if cancelled else "sale", "date_order": odoo_dt(o.placed),
        "commitment_date": _dt(o.promised), "amount_total": o.total / 100, "amount_untaxed": o.total / 100,
        "currency_id": [1, "USD"], "warehouse_id": [place.odoo_warehouse_id, place.name], "picking_ids": pickings,
        "delivery_status": False if cancelled else delivered, "user_id": False, "company_id": COMPANY,
        "create_date": odoo_dt(o.erp), "write_date": odoo_dt(updated),
    }  # fmt: skip


def picking_state(pk, now, world=None):
    """The generated state, unless the counter validated or cancelled the picking (``world.picking_states``)."""
    if world is not None and pk.id in world.picking_states and world.picking_states[pk.id][1] <= now:
        return world.picking_states[pk.id][0]
    o = pk.order
    if pk.kind == "ret":
        return "done" if o.ret_done <= now else "assigned"
    if pk.kind == "back":
        if o.back_done is None:  # partial_fulfilment: waiting for the stock that was not there
            return "confirmed"
        return "done" if o.back_done <= now else "assigned"
    if o.cancel is not None and o.cancel <= now:
        return "cancel"
    if o.done is not None and o.done <= now:
        return "done"
    return "confirmed" if o.breakdown == "stock_shortfall" else "assigned"


def stock_picking(world, pk, now, updated):
    o = pk.order
    state = picking_state(pk, now, world)
    common = {
        "id": pk.id,
        "name": pk.name,
        "display_name": pk.name,
        "sale_id": [o.so_id, o.so_name],
        "partner_id": _partner(o.person),
    }
    if pk.kind == "ret":
        wh = world.warehouse
        return {
            **common, "origin": f"Return of {o.out_picking.name}", "user_id": False, "state": state,
            "scheduled_date": odoo_dt(o.ret_request), "date_deadline": False, "date_done": _dt(o.ret_done) if state == "done" else False,
            "location_id": CUSTOMERS, "location_dest_id": _stock_location(wh),
            "picking_type_id": [wh.odoo_picking_type_id + 1, f"{wh.name}: Receipts"], "picking_type_code": "incoming",
            "carrier_tracking_ref": False, "has_packages": False, "return_id": [o.out_picking.id, o.out_picking.name],
            "backorder_id": False,
            "move_ids": [m.id for m in pk.moves], "priority": "0", "create_date": odoo_dt(pk.created), "write_date": odoo_dt(updated),
        }  # fmt: skip
    place = pk.store
    back = pk.kind == "back"
    # Odoo's carrier connectors write every package's tracking number, comma-joined
    codes = [p.code for p in o.shipments if p.picking == pk.kind] if state == "done" else []
    done = o.back_done if back else world.picking_states[pk.id][1] if pk.id in world.picking_states else o.done
    return {
        **common, "origin": o.so_name, "backorder_id": [o.out_picking.id, o.out_picking.name] if back else False,
        "user_id": list(o.preparer) if o.assign is not None and o.assign <= now else False,
        "state": state, "scheduled_date": _dt(o.back_sched if back else o.sched_at(now)), "date_deadline": _dt(o.promised),
        "date_done": _dt(done) if state == "done" else False,
        "location_id": _stock_location(place), "location_dest_id": CUSTOMERS,
        "picking_type_id": [place.odoo_picking_type_id, f"{place.name}: {'Pickups' if o.kind == 'pickup' else 'Delivery Orders'}"],
        "picking_type_code": "outgoing", "carrier_tracking_ref": ",".join(codes) or False,
        "has_packages": o.pack is not None and o.pack <= now and state != "cancel", "return_id": False,
        "move_ids": [m.id for m in pk.moves if m.picking_at(now) is pk], "priority": "0", "create_date": odoo_dt(pk.created), "write_date": odoo_dt(updated),
    }  # fmt: skip


def move_demand(m) -> float:
    """How many of its product a move is to move (Odoo's ``product_uom_qty``)."""
    o = m.picking.order
    return float(dict(o.ret_lines)[m.line_no] if m.picking.kind == "ret" else o.lines[m.line_no][1])


def stock_move(world, m, now, updated):
    pk = m.picking_at(now)
    o = pk.order
    product, quantity, _ = o.lines[m.line_no]
    if pk.kind == "ret":
        quantity = dict(o.ret_lines)[m.line_no]
        moved = o.ret_done <= now
        source, dest = CUSTOMERS, _stock_location(world.warehouse)
    elif m.picking.kind == "back":  # left behind: picked only when the backorder is
        moved = pk is m.picking and o.back_done is not None and o.back_done <= now
        source, dest = _stock_location(pk.store), CUSTOMERS
    else:
        moved = o.pick is not None and o.pick <= now and not (o.cancel is not None and o.cancel <= now)
        source, dest = _stock_location(pk.store), CUSTOMERS
    done = quantity if moved else 0
    if m.id in world.move_quantities:
        done, moved = world.move_quantities[m.id], True
    return {
        "id": m.id, "name": product.name, "reference": pk.name, "origin": o.so_name, "picking_id": [pk.id, pk.name],
        "product_id": _product(product), "product_uom_qty": float(quantity), "quantity": float(done),
        "picked": moved, "state": picking_state(pk, now, world), "location_id": source, "location_dest_id": dest,
        "date": odoo_dt(updated), "create_date": odoo_dt(pk.created), "write_date": odoo_dt(updated),
    }  # fmt: skip


def _bin_location(b):
    return _m2o(b.odoo_location_id, f"{b.store.odoo_code}/Stock/{b.name}")


def stock_quant(world, s, now, updated):
    return {
        "id": s.odoo_id, "product_id": _product(s.product),
        "location_id": _bin_location(s.bin) if s.bin is not None else _stock_location(s.store),
        "quantity": float(s.quantity_at(now)), "reserved_quantity": 0.0, "in_date": odoo_dt(s.changes[0][0]),
        "create_date": odoo_dt(s.changes[0][0]), "write_date": odoo_dt(updated),
    }  # fmt: skip


def res_partner(world, p, now, updated):
    return {
        "id": p.odoo_id, "name": p.name, "display_name": p.name, "email": p.shopify_email,
        "phone": e164_spaced(p.phone) or False, "ref": p.loyalty_id or False, "street": p.street, "city": p.city,
        "zip": p.zip, "category_id": [], "customer_rank": 1, "is_company": False, "type": "contact",
        "create_date": odoo_dt(p.odoo_created), "write_date": odoo_dt(updated),
    }  # fmt: skip


def stock_warehouse(world, s, now, updated):
    return {
        "id": s.odoo_warehouse_id,
        "name": s.name,
        "display_name": s.name,
        "code": s.odoo_code,
        "lot_stock_id": _stock_location(s),
        "company_id": COMPANY,
        "create_date": odoo_dt(world.setup_time),
        "write_date": odoo_dt(updated),
    }


def stock_location(world, s, now, updated):
    """A store's stock location, or a bin inside it (``s`` is then a model.Bin)."""
    store = getattr(s, "store", None)
    if store is not None:  # a bin
        name, short, parent, warehouse = f"{store.odoo_code}/Stock/{s.name}", s.name, _stock_location(store), store
    else:
        name, short, parent, warehouse = f"{s.odoo_code}/Stock", "Stock", False, s
    return {
        "id": s.odoo_location_id,
        "name": short,
        "complete_name": name,
        "display_name": name,
        "location_id": parent,
        "usage": "internal",
        "warehouse_id": [warehouse.odoo_warehouse_id, warehouse.name],
        "active": True,
        "create_date": odoo_dt(world.setup_time),
        "write_date": odoo_dt(updated),
    }


def product_product(world, p, now, updated):
    return {
        "id": p.odoo_id,
        "default_code": p.sku,
        "name": p.name,
        "display_name": f"[{p.sku}] {p.name}",
        "list_price": p.web_cents / 100,
        "type": "consu",
        "barcode": False,
        "active": True,
        "create_date": odoo_dt(world.setup_time),
        "write_date": odoo_dt(updated),
    }


# model -> (renderer, fields served from the static index for "=" / "in", field broken by wrong_type)
MODELS = {
    "sale.order": (
        sale_order,
        {
            "id": lambda o: o.so_id,
            "name": lambda o: o.so_name,
            "client_order_ref": lambda o: o.number,
            "origin": lambda o: o.number,
        },
        "partner_id",
    ),
    "stock.picking": (
        stock_picking,
        {"id": lambda p: p.id, "name": lambda p: p.name, "sale_id": lambda p: p.order.so_id},
        "sale_id",
    ),
    "stock.move": (
        stock_move,
        {
            "id": lambda m: m.id,
            "picking_id": lambda m: m.picking.id,
            "product_id": lambda m: m.picking.order.lines[m.line_no][0].odoo_id,
        },
        "picking_id",
    ),
    "stock.quant": (
        stock_quant,
        {
            "id": lambda s: s.odoo_id,
            "product_id": lambda s: s.product.odoo_id,
            "location_id": lambda s: s.bin.odoo_location_id if s.bin is not None else s.store.odoo_location_id,
        },
        "product_id",
    ),
    "res.partner": (res_partner, {"id": lambda p: p.odoo_id}, "category_id"),
    "stock.warehouse": (stock_warehouse, {"id": lambda s: s.odoo_warehouse_id}, "lot_stock_id"),
    "stock.location": (stock_location, {"id": lambda s: s.odoo_location_id}, "warehouse_id"),
    "product.product": (product_product, {"id": lambda p: p.odoo_id}, "name"),
}


def model_fields(world, model: str) -> frozenset[str]:
    """The model's field names: those of a rendered record (every record has them all)."""
    stream = world.stream("odoo", model)
    if "fields" not in stream.memo:
        sample = MODELS[model][0](world, stream.objects[0], world.now, world.now) if stream.objects else {}
        stream.memo["fields"] = frozenset(sample) | {"id", "write_date", "create_date"}
    return stream.memo["fields"]
