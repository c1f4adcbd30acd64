"""Odoo external API: ``search_read`` over JSON-2 (Odoo 19) or legacy ``/jsonrpc`` (Odoo 14–18).

Credentials: ``api_key`` (required); ``transport`` ``json2`` (default) or ``jsonrpc``;
``database`` (JSON-2 sends it as ``X-Odoo-Database``, jsonrpc as ``execute_kw``'s first
argument); for jsonrpc the user id ``uid`` (default 2), or a ``login`` the adapter
exchanges for the uid once through ``common.login``.

Both transports sit behind :meth:`OdooAdapter._search_read`:

* JSON-2: ``POST /json/2/<model>/search_read`` with ``Authorization: bearer <key>``
  and named arguments; the answer is the bare list. Errors come with HTTP 4xx/5xx and
  ``{name, message, arguments, context, debug}``; the :class:`TransportError` carries
  Odoo's message (4xx permanent, 5xx retried then transient — the HTTP seam's rule).
* jsonrpc: ``POST /jsonrpc`` ``execute_kw(db, uid, key, model, "search_read", [domain],
  {fields, limit, offset, order})``; the answer is ``result``, or an ``error`` object
  *with HTTP 200*, which becomes a TransportError — permanent for ``AccessDenied`` /
  ``AccessError`` (retrying cannot help), transient otherwise.

Cursor of every stream (committed with each page)::

    {"write_date": "YYYY-MM-DD HH:MM:SS", "id": last_id}

The position of the last row read, in Odoo's zone-less UTC. A page asks for the rows
after it, ordered ``write_date asc, id asc``, with a keyset that survives ties::

    ["|", ["write_date", ">", W], "&", ["write_date", "=", W], ["id", ">", last_id]]

No cursor means domain ``[]`` (everything). A full page means there is more. Caveat of
real Odoo: ``write_date`` is stored with microseconds but read (and compared, up to
Odoo 18) to the second, so ``> W`` also matches the rest of second W; those rows are
read again (upserts are idempotent). Should one second hold more rows than a page, the
cursor cannot move: the adapter refuses to loop and says to raise the page size.

Locations: one Odoo warehouse per store is the convention, so ``stock.warehouse`` is
the ``locations`` stream and location ids are warehouse ids everywhere. Quants and
pickings name a ``stock.location``; after each such page the adapter reads the
warehouse of the locations it has not seen yet (``stock.location`` ``warehouse_id``,
cached) and adds it to each row as ``_omnidesk_warehouse_id``, so mapping stays pure.

Moves need Odoo 17+ (``stock.move.quantity`` and ``picked``; before, ``quantity_done``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests

from ..http import TransportError
from ..records import MappingError
from .base import Adapter, CollectedLine, Page
from .odoo_mapping import (
    FIELDS,
    WAREHOUSE_KEY,
    map_location,
    map_move,
    map_order,
    map_partner,
    map_picking,
    map_stock,
    parse_datetime,
    product_sku,
)

STREAM_MODELS = {
    "locations": "stock.warehouse",
    "partners": "res.partner",
    "orders": "sale.order",
    "pickings": "stock.picking",
    "moves": "stock.move",
    "stock": "stock.quant",
}
LOCATED_MODELS = frozenset({"stock.quant", "stock.picking"})
TRANSPORTS = ("json2", "jsonrpc")
DEFAULT_UID = 2
PAGE_ORDER = "write_date asc, id asc"
ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"
PERMANENT_RPC_ERRORS = frozenset({"AccessDenied", "AccessError"})
# Error class names repeated in a sync error. Nothing else of an answer is: a base URL pointed
# at another server must not turn the source's error into a window on that server's replies.
KNOWN_ERRORS = PERMANENT_RPC_ERRORS | {
    "UserError",
    "ValidationError",
    "MissingError",
    "RedirectWarning",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "ValueError",
    "KeyError",
    "TypeError",
    "SerializationFailure",
    "LockNotAvailable",
    "IntegrityError",
}

Position = tuple[datetime, int]  # (write_date, id) of a row: the keyset


class OdooAdapter(Adapter):
    name = "odoo"
    allowed_hosts = None  # self-hosted anywhere: any https host, set by a superuser only
    kind = "erp"
    streams = tuple(STREAM_MODELS)
    required_credentials = ("api_key",)
    optional_credentials = ("database", "transport", "uid", "login")
    # search_read has no cap, and every statement of a landed page costs the same whatever its size:
    # 1,000 rows a page landed 30% faster than 250 (docs/scaling.md, "Page size")
    default_page_size = 1000
    mappers = {
        "locations": map_location,
        "partners": map_partner,
        "orders": map_order,
        "pickings": map_picking,
        "moves": map_move,
        "stock": map_stock,
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.transport = self.credentials.get("transport") or "json2"
        if self.transport not in TRANSPORTS:
            raise ValueError(f"odoo transport must be one of {', '.join(TRANSPORTS)}, not {self.transport!r}")
        uid = self.credentials.get("uid")
        try:
            self._uid = int(uid) if uid not in (None, "") else None
        except ValueError:
            raise ValueError(f"odoo credential uid must be an integer, not {uid!r}") from None
        self._rpc_id = 0
        self._warehouse_of: dict[int, Any] = {}  # stock.location id -> its warehouse_id

    def auth_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "OmniDesk"}
        if (self.credentials.get("transport") or "json2") == "json2":
            headers["Authorization"] = f"bearer {self.credentials['api_key']}"
            if self.credentials.get("database"):
                headers["X-Odoo-Database"] = self.credentials["database"]
        return headers

    # -- fetching ----------------------------------------------------------------------
    def fetch(self, stream: str, cursor: Mapping[str, Any]) -> Page:
        model = STREAM_MODELS.get(stream)
        if model is None:
            raise ValueError(f"odoo has no stream {stream!r}; streams: {', '.join(self.streams)}")
        after = _read_cursor(cursor)
        limit = max(1, self.page_size)
        rows = self._search_read(model, keyset_domain(after), FIELDS[model], limit=limit, offset=0, order=PAGE_ORDER)
        if model in LOCATED_MODELS:
            rows = self._with_warehouses(model, rows)
        position = max((p for p in (after, _last_position(rows)) if p is not None), default=None)
        has_more = len(rows) >= limit
        if has_more and position == after:
            raise TransportError(
                f"{model}: a full page of {limit} rows does not move the cursor past "
                f"{_cursor(after)}; more rows share one write_date than a page holds, "
                "so raise the source's page size",
                permanent=True,
            )
        return Page(items=rows, cursor=_cursor(position), has_more=has_more)

    def _search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        limit: int,
        offset: int,
        order: str,
    ) -> list[Any]:
        """``model.search_read`` over the configured transport: the list of rows."""
        options = {"fields": fields, "limit": limit, "offset": offset, "order": order}
        if self.transport == "json2":
            path = f"json/2/{model}/search_read"
            result = _decode(self._post(path, {"domain": domain, **options}), f"POST /{path}")
        else:
            result = self._rpc(
                "object",
                "execute_kw",
                [
                    self._database,
                    self._user_id(),
                    self._key,
                    model,
                    "search_read",
                    [domain],
                    options,
                ],
                what=f"{model}.search_read",
            )
        if not isinstance(result, list):
            raise TransportError(
                f"{model}.search_read answered {type(result).__name__} instead of a list of rows",
                permanent=False,
            )
        return result

    # -- the store counter's state, written back ---------------------------------------
    pickup_states = frozenset({"collected", "refused"})

    def push_pickup(self, *, external_id: str, state: str, lines: list[CollectedLine]) -> Any:
        """Validate (``collected``) or cancel (``refused``) the sale order's outgoing picking.

        Collected: each move's ``quantity`` is set to what the customer took of its SKU
        (0 for lines left behind), ``picked`` is set, then ``button_validate`` runs with
        ``skip_backorder`` so a partial collection closes the picking instead of opening
        a backorder wizard. With no outgoing picking left open, one already done (or
        cancelled, for a refusal) is the push already applied: nothing is written. Odoo has no "ready" state beyond
        ``assigned``, so ``ready`` is not taken.
        """
        if state not in self.pickup_states:
            raise ValueError(f"odoo takes no pickup state {state!r}")
        pickings = self._search_read(
            "stock.picking",
            [["sale_id", "=", int(external_id)], ["picking_type_code", "=", "outgoing"]],
            ["id", "state", "move_ids"],
            limit=0,
            offset=0,
            order="id asc",
        )
        final = "done" if state == "collected" else "cancel"
        open_pickings = [p for p in pickings if p.get("state") not in ("done", "cancel")]
        if not open_pickings:
            if any(p.get("state") == final for p in pickings):  # the push already applied (a lost answer)
                return True
            raise ValueError(f"odoo sale order {external_id} has no open outgoing picking to {final!r}")
        picking = open_pickings[0]
        if state == "refused":
            return self._execute("stock.picking", "action_cancel", [picking["id"]])
        taken: dict[str, Decimal] = {}
        for line in lines:
            taken[line.sku] = taken.get(line.sku, Decimal(0)) + Decimal(line.quantity)
        moves = self._search_read(
            "stock.move",
            [["id", "in", picking["move_ids"]]],
            ["id", "product_id", "product_uom_qty"],
            limit=0,
            offset=0,
            order="id asc",
        )
        by_quantity: dict[float, list[int]] = {}  # moves given the same quantity share one write
        for move in moves:
            sku = product_sku(move, "product_id", "stock.move")
            quantity = min(float(move["product_uom_qty"]), float(taken.get(sku, 0)))
            taken[sku] = taken.get(sku, Decimal(0)) - Decimal(str(quantity))
            by_quantity.setdefault(quantity, []).append(move["id"])
        for quantity, move_ids in by_quantity.items():
            self._execute("stock.move", "write", move_ids, vals={"quantity": quantity, "picked": True})
        result = self._execute(
            "stock.picking",
            "button_validate",
            [picking["id"]],
            context={"skip_backorder": True, "picking_ids_not_to_backorder": [picking["id"]]},
        )
        if result is not True:  # a wizard (an action dict) means Odoo wants a person to decide
            raise TransportError(
                f"odoo did not validate picking {picking['id']}: it answered {result!r}", permanent=True
            )
        return result

    def _execute(self, model: str, method: str, ids: list[int], **named: Any) -> Any:
        """One ORM method on records ``ids`` over the configured transport (named arguments as keywords)."""
        if self.transport == "json2":
            path = f"json/2/{model}/{method}"
            return _decode(self._post(path, {"ids": ids, **named}), f"POST /{path}")
        return self._rpc(
            "object",
            "execute_kw",
            [self._database, self._user_id(), self._key, model, method, [ids], named],
            what=f"{model}.{method}",
        )

    def _with_warehouses(self, model: str, rows: list[Any]) -> list[Any]:
        """Each row plus :data:`WAREHOUSE_KEY`: the warehouse of its stock location."""

        def location_of(row: Any) -> int | None:
            if not isinstance(row, dict):
                return None
            incoming = model == "stock.picking" and row.get("picking_type_code") == "incoming"
            value = row.get("location_dest_id" if incoming else "location_id")
            return value[0] if _is_many2one(value) else None

        unknown = sorted({location_of(row) for row in rows} - {None} - self._warehouse_of.keys())
        if unknown:
            found = self._search_read(
                "stock.location",
                [["id", "in", unknown]],
                ["id", "warehouse_id"],
                limit=len(unknown),
                offset=0,
                order="id asc",
            )
            for location in found:
                if isinstance(location, dict) and location.get("id") in unknown:
                    self._warehouse_of[location["id"]] = location.get("warehouse_id", False)
            for location_id in unknown:
                self._warehouse_of.setdefault(location_id, False)
        return [
            {**row, WAREHOUSE_KEY: self._warehouse_of.get(location_of(row), False)} if isinstance(row, dict) else row
            for row in rows
        ]

    # -- transports --------------------------------------------------------------------
    @property
    def _key(self) -> str:
        return self.credentials["api_key"]

    @property
    def _database(self) -> str:
        return self.credentials.get("database") or ""

    def _user_id(self) -> int:
        if self._uid is None:
            login = self.credentials.get("login")
            if not login:
                self._uid = DEFAULT_UID
            else:
                uid = self._rpc("common", "login", [self._database, login, self._key], what="common.login")
                if isinstance(uid, bool) or not isinstance(uid, int) or uid <= 0:
                    raise TransportError(f"odoo refused the login {login!r} with this api_key", permanent=True)
                self._uid = uid
        return self._uid

    def _rpc(self, service: str, method: str, args: list[Any], *, what: str) -> Any:
        self._rpc_id += 1
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": self._rpc_id,
            "params": {"service": service, "method": method, "args": args},
        }
        response = self._post("jsonrpc", body)
        answer = _decode(response, "POST /jsonrpc")
        if not isinstance(answer, dict):
            raise TransportError(
                f"POST /jsonrpc {what} answered JSON that is not a JSON-RPC response",
                permanent=False,
                status=response.status_code,
            )
        if answer.get("error") is not None:
            name, _ = _odoo_error(answer)
            raise TransportError(
                f"POST /jsonrpc {what}: Odoo answered {_error_kind(name)}",
                permanent=name.rsplit(".", 1)[-1] in PERMANENT_RPC_ERRORS,
                status=response.status_code,
            )
        if "result" not in answer:
            raise TransportError(
                f"POST /jsonrpc {what} answered neither a result nor an error",
                permanent=False,
                status=response.status_code,
            )
        return answer["result"]

    def _post(self, path: str, body: dict[str, Any]) -> requests.Response:
        """POST through the HTTP seam; a refused call's TransportError also names Odoo's error class.

        The seam raises on HTTP errors without the body, so a response hook keeps the
        last answer to read Odoo's ``{name}`` (JSON-2) or ``error`` (jsonrpc); only a known
        class name is repeated (:data:`KNOWN_ERRORS`), never the message.
        """
        answers: list[requests.Response] = []

        def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            answers.append(response)

        try:
            return self.client.post(path, json=body, hooks={"response": keep})
        except TransportError as exc:
            name, _ = _odoo_error(_json_or_none(answers[-1])) if answers else ("", "")
            if not name:
                raise
            raise TransportError(
                f"{exc}; Odoo answered {_error_kind(name)}",
                permanent=exc.permanent,
                status=exc.status,
            ) from exc

    # -- mapping -----------------------------------------------------------------------
    def external_id(self, stream: str, payload: Any) -> str:
        """Odoo ids are positive integers (``false`` or 0 is no record)."""
        value = payload.get("id") if isinstance(payload, dict) else None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return ""
        return str(value)


def keyset_domain(after: Position | None) -> list[Any]:
    """The domain of the rows after ``after`` in ``write_date, id`` order (``[]``: all)."""
    if after is None:
        return []
    stamp = after[0].strftime(ODOO_FORMAT)
    return [
        "|",
        ["write_date", ">", stamp],
        "&",
        ["write_date", "=", stamp],
        ["id", ">", after[1]],
    ]


def _read_cursor(cursor: Mapping[str, Any]) -> Position | None:
    if not cursor:
        return None
    last_id = cursor.get("id", 0)
    try:
        when = parse_datetime(cursor.get("write_date"), "cursor.write_date")
    except MappingError:
        when = None
    if when is None or isinstance(last_id, bool) or not isinstance(last_id, int):
        raise ValueError(f"odoo cursor must be {{'write_date': 'YYYY-MM-DD HH:MM:SS', 'id': int}}, got {cursor!r}")
    return when, last_id


def _cursor(position: Position | None) -> dict[str, Any]:
    if position is None:
        return {}
    return {"write_date": position[0].strftime(ODOO_FORMAT), "id": position[1]}


def _last_position(rows: list[Any]) -> Position | None:
    """The greatest readable (write_date, id) of a page; unreadable rows are left to mapping."""
    positions = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        row_id = row.get("id")
        try:
            when = parse_datetime(row.get("write_date"), "write_date")
        except MappingError:
            continue
        if when is not None and isinstance(row_id, int) and not isinstance(row_id, bool):
            positions.append((when, row_id))
    return max(positions) if positions else None


def _is_many2one(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and not isinstance(value[0], bool)


def _decode(response: requests.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransportError(
            f"{what} answered a body that is not JSON", permanent=False, status=response.status_code
        ) from None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_kind(name: str) -> str:
    """``odoo.exceptions.AccessDenied`` → ``AccessDenied``; a name not in KNOWN_ERRORS is not repeated."""
    short = name.rsplit(".", 1)[-1]
    return short if short in KNOWN_ERRORS else "an error it did not name"


def _odoo_error(body: Any) -> tuple[str, str]:
    """``(name, message)`` of a JSON-2 error object or a jsonrpc ``error``; empty when neither."""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, dict):  # jsonrpc: {"error": {"message", "data": {"name", "message"}}}
        data = error.get("data") if isinstance(error.get("data"), dict) else {}
        name, message = data.get("name"), data.get("message") or error.get("message")
    else:  # JSON-2: {"name", "message", "arguments", "context", "debug"}
        name, message = body.get("name"), body.get("message")
    return (
        name if isinstance(name, str) else "",
        message.strip() if isinstance(message, str) else "",
    )


__all__ = [
    "OdooAdapter",
    "keyset_domain",
    "map_location",
    "map_move",
    "map_order",
    "map_partner",
    "map_picking",
    "map_stock",
]
