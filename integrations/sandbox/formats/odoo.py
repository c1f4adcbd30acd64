"""Odoo external API: JSON-2 (``/json/2/<model>/<method>``, Odoo 19) and ``/jsonrpc``.

Models: sale.order, stock.picking, stock.move, stock.quant, res.partner, and the
reference models stock.warehouse, stock.location, product.product. Methods:
search_read, search, search_count, read; and the store counter's writes: stock.move
``write`` (quantity, picked), stock.picking ``button_validate`` and ``action_cancel``.
Paging is Odoo's ``offset``/``limit`` over ``order`` (``id``, ``write_date`` or
``create_date``, asc/desc; default ``id asc``); incremental sync filters the domain on
``write_date``. Records follow Odoo's wire
conventions: many2one as ``[id, "Name"]``, null as ``false``, datetimes as zone-less
UTC text.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from itertools import islice

from ..model import odoo_dt
from . import Request, Response, corrupt, reply
from .odoo_domain import DomainError, bounds, conjunction, matches, parse
from .odoo_records import MODELS, model_fields, move_demand, picking_state

API_KEY = "odoo_sandbox"
UID = 2


class OdooError(Exception):
    def __init__(self, status: int, name: str, message: str):
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


# --- search -------------------------------------------------------------------------------
def _render(world, model, stream, i, now, updated=None):
    updated = stream.updated_at(i, now) if updated is None else updated
    record = MODELS[model][0](world, stream.objects[i], now, updated)
    how = world.corruption("odoo", model, stream.externals[i])
    if how:
        record = corrupt(record, how, id_field="id", list_field=MODELS[model][2], date_field="create_date")
    return record


class _Row:
    """A record for domain evaluation: ``id`` and ``write_date`` from the index row, the
    rest rendered on first use (the adapters' keyset domains never need a render)."""

    __slots__ = ("world", "model", "stream", "row", "now", "record")

    def __init__(self, world, model, stream, row, now):
        self.world, self.model, self.stream, self.row, self.now = world, model, stream, row, now
        self.record = None

    def get(self, name, default=False):
        if name == "id":
            return self.row[1]
        if name == "write_date":
            return odoo_dt(self.row[0])
        if self.record is None:
            self.record = _render(self.world, self.model, self.stream, self.row[2], self.now, self.row[0])
        return self.record.get(name, default)


def _index(stream, model, field):
    """Positions by the value of a field that never changes (ids, names, links)."""
    key = ("index", field)
    if key not in stream.memo:
        value = MODELS[model][1][field]
        index: dict = {}
        for i, obj in enumerate(stream.objects):
            index.setdefault(value(obj), []).append(i)
        stream.memo[key] = index
    return stream.memo[key]


def _candidates(world, model, stream, tree, now):
    """Rows that may match, in (write_date, id) order: a static index or a write_date range."""
    low, high = bounds(tree)
    positions = None
    for _, name, op, value in conjunction(tree) or ():
        if name in MODELS[model][1] and op in ("=", "in"):
            index = _index(stream, model, name)
            found = {i for v in (value if op == "in" else [value]) for i in index.get(v, ())}
            positions = found if positions is None else positions & found
    if positions is None:
        rows = stream.visible(now)
        start = bisect_left(rows, (low,)) if low is not None else 0
        for n in range(start, len(rows)):
            if high is not None and rows[n][0] > high:
                return
            yield rows[n]
        return
    rows = []
    for i in positions:
        updated = stream.updated_at(i, now)
        if updated is not None and (low is None or updated >= low) and (high is None or updated <= high):
            rows.append((updated, stream.keys[i], i))
    yield from sorted(rows)


def search(world, model: str, domain, order: str | None, want: int | None = None) -> list[int]:
    """Positions of the matching records, in ``order``, as of the world clock.

    With ``want`` and the natural ``write_date asc, id asc`` order, the scan stops once
    that many match; otherwise the full result is built and memoised for the clock, so
    offset paging is a slice.
    """
    if model not in MODELS:
        raise OdooError(404, "builtins.KeyError", f"Object {model} doesn't exist")
    try:
        tree = parse(domain, model, model_fields(world, model))
    except DomainError as exc:
        raise OdooError(422, "builtins.ValueError", str(exc)) from None
    terms = _order(order, model)
    stream = world.stream("odoo", model)
    now = world.now
    natural = terms == [("write_date", False), ("id", False)]
    trivial = tree == ("true",)

    def matching():
        for row in _candidates(world, model, stream, tree, now):
            if trivial or matches(tree, _Row(world, model, stream, row, now)):
                yield row

    if natural and want is not None:
        return [row[2] for row in islice(matching(), want)]

    def build() -> list[int]:
        rows = list(matching())
        if not natural:
            rows.sort(key=lambda r: tuple(_term_value(stream, r, name, desc) for name, desc in terms))
        return [r[2] for r in rows]

    return stream.query((json.dumps(domain, sort_keys=True, default=str), tuple(terms)), now, build)


def _order(order: str | None, model: str) -> list[tuple[str, bool]]:
    if not order:
        return [("id", False)]
    terms = []
    for part in str(order).split(","):
        words = part.split()
        if not words:
            continue
        name = words[0]
        direction = words[1].lower() if len(words) > 1 else "asc"
        if name not in ("id", "write_date", "create_date") or direction not in ("asc", "desc") or len(words) > 2:
            raise OdooError(
                422,
                "builtins.ValueError",
                f"Invalid order {order!r} for {model}: the sandbox orders by id, write_date or create_date, asc or desc",
            )
        terms.append((name, direction == "desc"))
    if not any(name == "id" for name, _ in terms):
        terms.append(("id", False))
    return terms


def _term_value(stream, row, name, desc):
    value = row[0] if name == "write_date" else row[1] if name == "id" else stream.versions[row[2]][0]
    return -value if desc else value


def _fields(world, model: str, requested) -> list[str] | None:
    if not requested:
        return None
    if not isinstance(requested, list):
        raise OdooError(422, "builtins.ValueError", "fields must be a list of field names")
    known = model_fields(world, model)
    for name in requested:
        if name not in known:
            raise OdooError(422, "builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
    return ["id", *[name for name in requested if name != "id"]]


def call(world, model: str, method: str, kw: dict):
    """Run one ORM method the way both transports need it."""
    if model not in MODELS:
        raise OdooError(404, "builtins.KeyError", f"Object {model} doesn't exist")
    stream = world.stream("odoo", model)
    now = world.now
    if method == "read":
        positions = [stream.find_key(int(i)) for i in kw.get("ids") or []]
        positions = [i for i in positions if i is not None and stream.exists(i, now)]
    elif method in ("search_read", "search", "search_count"):
        offset, limit = int(kw.get("offset") or 0), int(kw.get("limit") or 0)
        # a first page stops scanning once full (keyset paging); deeper offsets slice the memo
        want = limit if limit and not offset and method != "search_count" else None
        positions = search(world, model, kw.get("domain") or [], kw.get("order"), want)
        if method == "search_count":
            return len(positions)
        positions = positions[offset : offset + limit] if limit else positions[offset:]
        if method == "search":
            return [stream.keys[i] for i in positions]
    elif method in WRITES.get(model, ()):
        return _write(world, model, stream, method, kw, now)
    else:
        raise OdooError(
            404,
            "builtins.AttributeError",
            f"The method '{method}' does not exist on the model '{model}'",
        )
    fields = _fields(world, model, kw.get("fields"))
    out = []
    for i in positions:
        record = _render(world, model, stream, i, now)
        out.append(record if fields is None else {name: record[name] for name in fields if name in record})
    return out


# --- the writes of the store counter ----------------------------------------------------------
WRITES = {"stock.move": ("write",), "stock.picking": ("button_validate", "action_cancel")}
MOVE_VALUES = frozenset({"quantity", "picked"})


def _write(world, model: str, stream, method: str, kw: dict, now: int):
    """Set a move's picked quantity, validate or cancel a picking: what ``orders.pickup`` writes back.

    As in Odoo 17: a done or cancelled transfer cannot change; validating with less than
    the demand opens the backorder wizard (an action) unless the context says
    ``skip_backorder``; a picking with nothing picked cannot be validated.
    """
    ids = kw.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise OdooError(422, "builtins.ValueError", f"{model}.{method} needs ids, a list of record ids")
    positions = [stream.find_key(ident) for ident in ids]
    for ident, i in zip(ids, positions, strict=True):
        if i is None or not stream.exists(i, now):
            raise OdooError(
                404, "odoo.exceptions.MissingError", f"Record does not exist or has been deleted. ({model}({ident},))"
            )
    records = [stream.objects[i] for i in positions]
    moves = world.stream("odoo", "stock.move")
    touched = [(stream, i) for i in positions]
    with world.lock:
        if model == "stock.move":
            _moves_write(world, records, kw.get("vals") or {}, now)
        else:  # every picking is checked before any changes: one needing a backorder stops them all, as in Odoo
            outcomes = [_picking_outcome(world, picking, method, kw.get("context") or {}, now) for picking in records]
            if _BACKORDER_WIZARD in outcomes:
                return _BACKORDER_WIZARD
            for picking, outcome in zip(records, outcomes, strict=True):
                world.picking_states[picking.id] = (outcome, now)
                touched += [(moves, moves.find_key(m.id)) for m in picking.moves]  # their state changed too
        for target, i in touched:  # a write moves write_date: the next incremental sync reads them again
            target.bump(i, now)
        world.revision += 1
    return True


_BACKORDER_WIZARD = {"type": "ir.actions.act_window", "res_model": "stock.backorder.confirmation", "target": "new"}


def _moves_write(world, moves, vals: dict, now: int) -> None:
    if not isinstance(vals, dict) or not vals or set(vals) - MOVE_VALUES:
        raise OdooError(422, "builtins.ValueError", f"the sandbox writes only {sorted(MOVE_VALUES)} on stock.move")
    for move in moves:
        if picking_state(move.picking, now, world) in ("done", "cancel"):
            raise OdooError(422, "odoo.exceptions.UserError", "You cannot change a done or cancelled stock move.")
        if "quantity" in vals:
            world.move_quantities[move.id] = float(vals["quantity"])


def _picking_outcome(world, picking, method: str, context: dict, now: int):
    """The state the picking would take ("done", "cancel"), or the backorder wizard; raises what Odoo refuses."""
    state = picking_state(picking, now, world)
    if state in ("done", "cancel"):
        raise OdooError(422, "odoo.exceptions.UserError", f"{picking.name} is already {state}.")
    if method == "action_cancel":
        return "cancel"
    demand = {m.id: move_demand(m) for m in picking.moves}
    picked = {
        m.id: world.move_quantities.get(m.id, demand[m.id] if state == "assigned" else 0.0) for m in picking.moves
    }
    if not any(picked.values()):
        raise OdooError(
            422, "odoo.exceptions.UserError", "You cannot validate a transfer if no quantities are reserved nor done."
        )
    if any(picked[i] < demand[i] for i in demand) and not context.get("skip_backorder"):
        return _BACKORDER_WIZARD
    return "done"


# --- transports -------------------------------------------------------------------------------
def handle(world, req: Request) -> Response:
    if req.method != "POST":
        return reply(
            {
                "name": "werkzeug.exceptions.MethodNotAllowed",
                "message": "Method Not Allowed",
                "arguments": [],
                "context": {},
                "debug": "",
            },
            405,
        )
    if req.path.rstrip("/") == "/jsonrpc":
        return _jsonrpc(world, req)
    parts = req.path.strip("/").split("/")
    if len(parts) != 4 or parts[:2] != ["json", "2"]:
        return _json2_error(OdooError(404, "werkzeug.exceptions.NotFound", "Not Found"))
    scheme, _, key = req.header("Authorization").partition(" ")
    if scheme.lower() != "bearer" or key.strip() != API_KEY:
        return _json2_error(OdooError(401, "odoo.exceptions.AccessDenied", "Invalid apikey"))
    try:
        body = req.json()
        if not isinstance(body, dict):
            raise ValueError("body must be an object")
    except ValueError:
        return _json2_error(
            OdooError(
                400,
                "werkzeug.exceptions.BadRequest",
                "the body must be a JSON object of named arguments",
            )
        )
    try:
        result = call(world, parts[2], parts[3], body)
    except OdooError as exc:
        return _json2_error(exc)
    except (TypeError, ValueError) as exc:
        return _json2_error(OdooError(422, "builtins.ValueError", str(exc)))
    response = reply(result)
    limit = body.get("limit")
    if parts[3] == "search_read" and limit and len(result) == int(limit):
        response.follow = req.follow(body=_next_body(body, result))
    return response


KEYSET_ORDER = "write_date asc, id asc"


def _next_body(body: dict, result: list) -> dict:
    """The body a client sends for the next page: what the read-ahead renders meanwhile.

    A client that pages by keyset (``write_date asc, id asc`` from offset 0, as the
    OmniDesk adapter does) asks for the rows after the last one it got; any other asks
    for the next offset. Guessing offsets for a keyset client was worse than useless:
    an offset query is answered by matching the whole model, for a page never asked for.
    """
    last = result[-1] if result else None
    keyset = (
        _order_text(body.get("order")) == KEYSET_ORDER
        and not body.get("offset")
        and isinstance(last, dict)
        and isinstance(last.get("write_date"), str)
        and isinstance(last.get("id"), int)
        and _is_keyset(body.get("domain"))
    )
    if keyset:
        stamp, ident = last["write_date"], last["id"]
        domain = ["|", ["write_date", ">", stamp], "&", ["write_date", "=", stamp], ["id", ">", ident]]
        return {**body, "domain": domain}
    return {**body, "offset": int(body.get("offset") or 0) + int(body["limit"])}


def _order_text(order) -> str:
    return ", ".join(" ".join(part.split()).lower() for part in str(order or "").split(","))


def _is_keyset(domain) -> bool:
    """Empty (the first page) or ``write_date > W | (write_date = W & id > K)`` (the pages after)."""
    if not domain:
        return True
    shape = [d[:2] if isinstance(d, list) else d for d in domain]
    return shape == ["|", ["write_date", ">"], "&", ["write_date", "="], ["id", ">"]]


def _json2_error(exc: OdooError) -> Response:
    return reply(
        {
            "name": exc.name,
            "message": exc.message,
            "arguments": [exc.message],
            "context": {},
            "debug": "",
        },
        exc.status,
    )


def _rpc_error(ident, exc: OdooError, status: int = 200) -> Response:
    data = {
        "name": exc.name,
        "debug": "",
        "message": exc.message,
        "arguments": [exc.message],
        "context": {},
    }
    return reply(
        {
            "jsonrpc": "2.0",
            "id": ident,
            "error": {"code": 200, "message": "Odoo Server Error", "data": data},
        },
        status,
    )


def _jsonrpc(world, req: Request) -> Response:
    try:
        body = req.json()
        params = body.get("params") or {}
        service, method, args = (
            params.get("service"),
            params.get("method"),
            list(params.get("args") or []),
        )
    except (ValueError, AttributeError):
        return _rpc_error(None, OdooError(400, "werkzeug.exceptions.BadRequest", "Invalid JSON-RPC request"), 400)
    ident = body.get("id")
    denied = OdooError(401, "odoo.exceptions.AccessDenied", "Access Denied")
    if service == "common":
        if method == "version":
            return reply(
                {
                    "jsonrpc": "2.0",
                    "id": ident,
                    "result": {
                        "server_version": "17.0",
                        "server_version_info": [17, 0, 0, "final", 0, ""],
                        "protocol_version": 1,
                    },
                }
            )
        if method in ("login", "authenticate"):
            ok = len(args) >= 3 and args[2] == API_KEY
            return reply({"jsonrpc": "2.0", "id": ident, "result": UID if ok else False})
    if service != "object" or method != "execute_kw" or len(args) < 5:
        return _rpc_error(ident, OdooError(404, "builtins.AttributeError", f"Unknown call {service}.{method}"))
    if args[1] != UID or args[2] != API_KEY:
        return _rpc_error(ident, denied, 401)
    model, orm_method = args[3], args[4]
    positional = list(args[5]) if len(args) > 5 and args[5] else []
    kw = dict(args[6]) if len(args) > 6 and args[6] else {}
    names = {"read": ("ids", "fields"), "write": ("ids", "vals")}.get(
        orm_method,
        ("ids",) if orm_method in WRITES.get(model, ()) else ("domain", "fields", "offset", "limit", "order"),
    )
    if orm_method in ("search", "search_count"):
        names = ("domain", "offset", "limit", "order")
    for name, value in zip(names, positional, strict=False):
        kw.setdefault(name, value)
    try:
        return reply({"jsonrpc": "2.0", "id": ident, "result": call(world, model, orm_method, kw)})
    except OdooError as exc:
        return _rpc_error(ident, exc)
    except (TypeError, ValueError) as exc:
        return _rpc_error(ident, OdooError(422, "builtins.ValueError", str(exc)))
