"""Shopify GraphQL Admin API 2025-07: ``POST /admin/api/<version>/graphql.json``.

The sandbox is no GraphQL engine: it parses a document (``graphql-core``) and answers it by its
root field, for what the sandbox has (``orders``, ``customers``, ``locations``, ``order(id:)``,
``nodes(ids:)`` of orders, an order's ``fulfillment(id:)``, ``refund(id:)`` and
``fulfillmentOrder(id:)``, a bulk query of ``orders`` (held to Shopify's bulk limits), and the
mutations ``fulfillmentOrderLineItemsPreparedForPickup`` and ``fulfillmentCreate``), reads its
variables, and renders its nodes whole in Shopify's shapes: global ids (``gid://shopify/Order/…``),
``MoneyBag`` (``shopMoney``), connections with ``nodes`` and ``pageInfo``, upper-case enums, UTC
times. Nodes are the REST resources of ``shopify_records`` restated, so both APIs show one world.
A document it does not recognise is answered with a GraphQL error; an id it does not have with
null. The answer then holds exactly what the document selects (:mod:`.shopify_paging`): the
fields named, under their aliases, ``__typename`` when asked, fragments applied by type; nested
connections and sized lists cut to the sizes asked for: ``first``/``after`` (or
``last``/``before``) with a ``pageInfo`` and opaque, stable cursors; a list such as
``fulfillments(first:)`` to its first items. So a client that asks for less than an order holds
gets less, and must page on as it would on Shopify; one that reads a field it did not select
finds nothing there. A bulk operation's file holds each node as the bulk query selects it, at
every size, as Shopify's bulk ignores sizes.

Search: ``query: "updated_at:>='ISO'"`` (or ``>``); orders of every status are listed,
as GraphQL does. ``sortKey: UPDATED_AT``; the ``endCursor`` encodes the filter and the
last (updated_at, id) served.

Cost: every answer carries ``extensions.cost``. Two rules (``POST /_sandbox/graphql-cost
{"rules": …}``):

* ``shopify`` (the default): Shopify's documented calculation over the document itself
  (:mod:`.shopify_cost`), nested connections and sized lists counted at their ``first``; a
  query requesting more than 1,000 is refused (``MAX_COST_EXCEEDED``), as a real shop refuses it;
* ``sandbox``: a query's requested cost is ``1 + first × node cost`` (:data:`NODE_COST`), its
  actual cost ``1 + nodes returned × node cost``. It is **not Shopify's** (it ignores the
  nested connections) and is kept only to compare against.

Either way the bucket (:class:`CostBucket`) is reported and enforced: a query that asks for
more than is available is answered ``THROTTLED`` and costs nothing, one above 1,000
``MAX_COST_EXCEEDED``. The default restore rate keeps one paging client far from empty;
``restore_rate=100`` rehearses the standard plan.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from functools import partial
from typing import Any

from graphql import GraphQLError

from ..model import iso_z, parse_time
from ..streams import decode_token, encode_token
from . import Request, Response, VendorError, corrupt, dumps, reply
from .shopify_cost import MAX_QUERY_COST, MUTATION_COST, QueryCost
from .shopify_nodes import customer, gid, location, order
from .shopify_paging import Paging
from .shopify_records import COUNTER_FULFILMENT_BASE, FULFILLMENT_ORDER_BASE, PICKUP_FULFILMENT_BASE, REFUND_BASE

logger = logging.getLogger(__name__)

NODE_COST = {"orders": 3, "customers": 1, "locations": 1, "order": 3, "nodes": 3, "fulfillment": 1, "refund": 1,
             "fulfillmentOrder": 1}  # fmt: skip
COST_RULES = ("sandbox", "shopify")
ROOTS = frozenset({
    "orders", "customers", "locations", "order", "nodes", "fulfillment", "refund", "fulfillmentOrder",
    "bulkOperationRunQuery", "currentBulkOperation", "fulfillmentOrderLineItemsPreparedForPickup", "fulfillmentCreate",
})  # fmt: skip
SEARCH = re.compile(r"updated_at:(?P<op>>=|>)\s*'?(?P<value>[^'\s]+)'?")
FULFILLMENT_DISPLAY = {None: "FULFILLED"}


class CostBucket:
    """Shopify's GraphQL leaky bucket of query cost points (standard plan: 2,000, restoring 100/s)."""

    def __init__(self, maximum: float = 2000.0, restore_rate: float = 100_000.0):
        self.lock = threading.Lock()
        self.maximum, self.restore_rate = maximum, restore_rate
        self.available, self.stamp = maximum, time.monotonic()
        self.rules = "shopify"

    def configure(
        self, *, maximum: float | None = None, restore_rate: float | None = None, rules: str | None = None
    ) -> dict:
        with self.lock:
            if rules is not None:
                if rules not in COST_RULES:
                    raise ValueError(f"rules must be one of {', '.join(COST_RULES)}")
                self.rules = rules
            if maximum is not None:
                self.maximum = float(maximum)
            if restore_rate is not None:
                if float(restore_rate) <= 0:
                    raise ValueError("restore_rate must be positive")
                self.restore_rate = float(restore_rate)
            self.available, self.stamp = self.maximum, time.monotonic()
            return {"maximum": self.maximum, "restore_rate": self.restore_rate, "rules": self.rules}

    def take(self, requested: float, actual) -> dict:
        """Spend ``actual()`` points when ``requested`` are available; the cost extension, ``throttled`` in it."""
        with self.lock:
            now = time.monotonic()
            self.available = min(self.maximum, self.available + self.restore_rate * (now - self.stamp))
            self.stamp = now
            throttled = requested > self.available
            spent = 0 if throttled else actual()
            self.available -= spent
            return {
                "requestedQueryCost": requested,
                "actualQueryCost": None if throttled else spent,
                "throttleStatus": {
                    "maximumAvailable": self.maximum,
                    "currentlyAvailable": int(self.available),
                    "restoreRate": self.restore_rate,
                },
                "throttled": throttled,
            }


def handle_graphql(world, req: Request, render) -> Response:
    """Answer one GraphQL POST; ``render`` holds the REST renderers and the counter's actions (``shopify``)."""
    try:
        body = req.json()
        document, variables = body["query"], body.get("variables") or {}
        if not isinstance(document, str) or not isinstance(variables, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return reply(
            {"errors": [{"message": "Bad Request: a JSON body with 'query' and 'variables' is required"}]}, 400
        )
    try:
        paging = Paging(document, variables)
    except GraphQLError as exc:
        return _error(exc.message)
    roots = paging.roots()
    if not roots or any(name not in ROOTS for _, name, _ in roots):
        return _error(
            "the sandbox answers orders, customers, locations, order, nodes, fulfillment, refund, fulfillmentOrder,"
            " the bulk operation and the pickup mutations only"
        )
    field = roots[0][1]
    try:
        first = _first(roots[0][2], field)
    except VendorError as exc:
        return reply(exc.payload, exc.status)
    if world.shopify_cost.rules == "shopify":
        try:
            calculated = QueryCost(document, variables)
        except GraphQLError as exc:
            return _error(exc.message)
        requested, actual = calculated.requested(), calculated.actual
    else:
        requested = 1 + first * NODE_COST.get(field, MUTATION_COST) if first else MUTATION_COST
        actual = partial(_actual, field)
    if requested > MAX_QUERY_COST:
        return _error(
            f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
            "MAX_COST_EXCEEDED",
        )
    answer: dict[str, Any] = {}

    def run() -> int:
        origin = f"{req.origin}{req.prefix}"
        data = {key: _run(world, name, arguments, render, origin)[name] for key, name, arguments in roots}
        answer["data"] = paging.shaped(data)  # what the document selects, nested pages as Shopify cuts them
        return actual(answer["data"])

    try:
        cost = world.shopify_cost.take(requested, run)
    except VendorError as exc:
        return reply(exc.payload, exc.status)
    throttled = cost.pop("throttled")
    if throttled:
        return reply({
            "errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": cost},
        })  # fmt: skip
    if "errors" in answer["data"]:
        return reply({"errors": answer["data"]["errors"], "extensions": {"cost": cost}})
    return reply({"data": answer["data"], "extensions": {"cost": cost}})


def _error(message: str, code: str = "") -> Response:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code}
    return reply({"errors": [error]})


def _first(variables: dict, field: str) -> int:
    if field in ("orders", "customers"):
        try:
            return max(1, min(250, int(variables.get("first") or 50)))
        except (TypeError, ValueError):
            message = "Variable $first of type Int! was provided invalid value"
            raise VendorError(200, {"errors": [{"message": message}]}) from None
    if field == "nodes":
        ids = variables.get("ids")
        if not isinstance(ids, list) or len(ids) > 250:
            message = "Variable $ids of type [ID!]! was provided invalid value (at most 250 ids)"
            raise VendorError(200, {"errors": [{"message": message}]})
        return max(1, len(ids))
    return {"locations": 250, "order": 1, "fulfillment": 1, "refund": 1, "fulfillmentOrder": 1}.get(field, 0)


def _actual(field: str, data: dict) -> int:
    if field in ("orders", "customers", "locations"):
        return 1 + len((data.get(field) or {}).get("nodes") or []) * NODE_COST[field]
    if field == "nodes":
        return 1 + sum(node is not None for node in data.get("nodes") or []) * NODE_COST["nodes"]
    if field in ("order", "fulfillment", "refund", "fulfillmentOrder"):
        return 1 + NODE_COST[field] if data.get(field) is not None else 1
    return MUTATION_COST


def _run(world, field: str, variables: dict, render, origin: str) -> dict:
    """The root field ``field`` answered whole; ``variables``: its arguments' values (``id``, ``first``, ``query``…)."""
    if field == "locations":
        stream = world.stream("shopify", "locations")
        return {"locations": {"nodes": [location(render.location(s, world.setup_time)) for s in stream.objects]}}
    if field in ("orders", "customers"):
        return {field: _page(world, field, variables, render)}
    if field == "order":
        return {"order": _order_by_id(world, variables.get("id"), render)}
    if field == "nodes":
        return {"nodes": [_order_node(world, ident, render) for ident in variables.get("ids") or []]}
    if field in OWNED:
        return {field: _owned(world, field, variables.get("id"), render)}
    if field == "bulkOperationRunQuery":
        return {"bulkOperationRunQuery": bulk_run(world, render, variables.get("query"))}
    if field == "currentBulkOperation":
        return {"currentBulkOperation": bulk_current(world, origin)}
    if field == "fulfillmentCreate":
        return {"fulfillmentCreate": render.fulfillment_create(world, variables.get("fulfillment"))}
    return {"fulfillmentOrderLineItemsPreparedForPickup": render.prepared_for_pickup(world, variables.get("input"))}


def _page(world, resource: str, variables: dict, render) -> dict:
    first = _first(variables, resource)
    after = variables.get("after")
    if after:
        try:
            state = decode_token(after)
            f, last = state["f"], tuple(state["a"])
        except (ValueError, KeyError, TypeError):
            message = f"Invalid cursor for current pagination sort: {after}"
            raise VendorError(200, {"errors": [{"message": message}]}) from None
    else:
        f, last = {"o": "updated", "status": "any"}, None
        search = variables.get("query") or ""
        found = SEARCH.search(search)
        if found:
            try:
                moment = parse_time(found["value"], ceil=True)
            except ValueError:
                raise VendorError(200, {"errors": [{"message": f"Invalid search query: {search}"}]}) from None
            f["updated_at_min"] = moment if found["op"] == ">=" else moment + 1
    stream = world.stream("shopify", resource)
    rows, more = render.select(world, stream, f, first, last)
    now = world.now
    nodes = []
    for updated, _, i in rows:
        rest = render.resource(world, resource, stream, i, updated)
        node = order(world, stream.objects[i], rest, now) if resource == "orders" else customer(rest)
        how = world.corruption("shopify", resource, str(stream.keys[i]))
        if how:
            list_field = "lineItems" if resource == "orders" else "tags"
            node = corrupt(node, how, id_field="id", list_field=list_field, date_field="createdAt")
        nodes.append(node)
    end = encode_token({"f": f, "a": [rows[-1][0], rows[-1][1]]}) if rows else None
    return {"pageInfo": {"hasNextPage": bool(more), "endCursor": end}, "nodes": nodes}


def _order_node(world, ident: Any, render) -> dict | None:
    """``nodes(ids:)``: the order as the paged query gives it (corrupted as there), None for any other id."""
    if not str(ident or "").startswith("gid://shopify/Order/"):
        return None
    node = _order_by_id(world, ident, render)
    if node is None:
        return None
    how = world.corruption("shopify", "orders", str(ident).rsplit("/", 1)[-1])
    return corrupt(node, how, id_field="id", list_field="lineItems", date_field="createdAt") if how else node


def _order_by_id(world, ident: Any, render) -> dict | None:
    tail = str(ident or "").rsplit("/", 1)[-1]
    stream = world.stream("shopify", "orders")
    i = stream.find(tail)
    now = world.now
    if i is None or not stream.exists(i, now):
        return None
    rest = render.resource(world, "orders", stream, i, stream.updated_at(i, now))
    return order(world, stream.objects[i], rest, now)


# An order's fulfilment, refund or fulfillment order by its own id: the order it belongs to (None: no such one),
# found from the id as the generator and the renderers number them (shopify_records, systems.SystemIds).
OWNED = {"fulfillment": "fulfillments", "refund": "refunds", "fulfillmentOrder": "fulfillmentOrders"}


def _owner(world, field: str, number: int):
    orders = world.orders
    if field == "refund":
        n = (number - REFUND_BASE) // 1000
        return orders[n] if 0 <= n < len(orders) else None
    if field == "fulfillmentOrder":
        n = number - FULFILLMENT_ORDER_BASE
        return orders[n] if 0 <= n < len(orders) else None
    for base in (PICKUP_FULFILMENT_BASE, COUNTER_FULFILMENT_BASE):  # a pickup's, the counter's: + the order's index
        if 0 <= number - base < len(orders):
            return orders[number - base]
    return next((parcel.order for parcel in world.shipments if parcel.fulfillment_id == number), None)


def _owned(world, field: str, ident: Any, render) -> dict | None:
    """``fulfillment(id:)``, ``refund(id:)``, ``fulfillmentOrder(id:)``: the node as its order shows it now, or None."""
    kind, _, tail = str(ident or "").removeprefix("gid://shopify/").partition("/")
    if kind != field[0].upper() + field[1:] or not tail.isdigit():
        return None
    o = _owner(world, field, int(tail))
    if o is None or o.channel != "web":
        return None
    node = _order_by_id(world, gid("Order", o.shopify_id), render)
    held = (node or {}).get(OWNED[field])
    items = held.get("nodes") if isinstance(held, dict) else held
    return next((item for item in items or () if item.get("id") == ident), None)


# -- bulk operations ------------------------------------------------------------------------------
BULK_LISTS = ("fulfillments", "refunds")  # list fields: they stay in their parent's line
# Order fields that are GraphQL lists, not connections: a connection inside one is refused in a bulk query.
LIST_FIELDS = frozenset({"fulfillments", "refunds", "transactions", "trackingInfo", "customAttributes"})
BULK_MAX_CONNECTIONS = 5
BULK_MAX_DEPTH = 2
TOKEN = re.compile(r'\.\.\.|[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*"|\S')


def selection(document: str) -> dict:
    """The first selection set of ``document`` as nested dicts (field -> its selection, or None for a leaf).

    Arguments are skipped, an aliased field is keyed by its alias, and inline fragments merged into their parent: enough
    to tell which connections and lists a bulk query holds (:func:`bulk_refusal`); its file's lines are selected from
    the parsed document (:meth:`.shopify_paging.Paging.bulk_node`).
    """
    tokens = TOKEN.findall(document)
    position = tokens.index("{") if "{" in tokens else len(tokens)

    def skip_arguments(at: int) -> int:
        depth = 0
        while at < len(tokens):
            depth += {"(": 1, ")": -1}.get(tokens[at], 0)
            at += 1
            if depth == 0:
                return at
        raise ValueError("unbalanced arguments")

    def parse(at: int) -> tuple[dict, int]:
        fields: dict = {}
        at += 1  # past "{"
        while at < len(tokens) and tokens[at] != "}":
            word = tokens[at]
            if word == "...":
                at += 3 if tokens[at + 1] == "on" else 1  # "... on Type"
                inner, at = parse(at)
                fields.update(inner)
                continue
            name, at = word, at + 1  # an alias is the key its field's answer goes under
            if at < len(tokens) and tokens[at] == ":":
                at += 2
            if at < len(tokens) and tokens[at] == "(":
                at = skip_arguments(at)
            sub = None
            if at < len(tokens) and tokens[at] == "{":
                sub, at = parse(at)
            fields[name] = sub
        if at >= len(tokens):
            raise ValueError("unbalanced selection")
        return fields, at + 1

    if position >= len(tokens):
        return {}
    return parse(position)[0]


def _connection_nodes(sub: dict | None) -> dict | None:
    """The node selection of a connection's selection (``edges { node }`` or ``nodes``); None if no connection."""
    if not sub:
        return None
    if isinstance(sub.get("edges"), dict) and "node" in sub["edges"]:
        return sub["edges"]["node"] or {}
    return sub["nodes"] or {} if "nodes" in sub else None


def bulk_refusal(query: dict) -> str:
    """Why Shopify would refuse this bulk query's selection ("" when it would not)."""
    connections, problems = 0, []

    def walk(fields: dict, depth: int, in_list: str) -> None:
        nonlocal connections
        for name, sub in fields.items():
            nodes = _connection_nodes(sub)
            if nodes is not None:
                connections += 1
                if in_list:
                    problems.append(f"the connection {name} is inside the list field {in_list}")
                if depth + 1 > BULK_MAX_DEPTH:
                    problems.append(f"the connection {name} is nested {depth + 1} levels deep")
                walk(nodes, depth + 1, in_list)
            elif sub:
                walk(sub, depth, name if name in LIST_FIELDS else in_list)

    walk(query, 0, "")
    if connections == 0:
        problems.insert(0, "it has no connection")
    if connections > BULK_MAX_CONNECTIONS:
        problems.insert(0, f"it has {connections} connections (at most {BULK_MAX_CONNECTIONS})")
    return "; ".join(problems)


def bulk_run(world, render, query: Any = None) -> dict:
    """``bulkOperationRunQuery`` for the orders query: the JSONL of every order at this clock, by updated_at.

    As on Shopify, one operation runs at a time: asked again while its file is being written, it refuses
    (``OPERATION_IN_PROGRESS``). The answer comes at once and the file is written in the background
    (a thread rendering :data:`BULK_CHUNK` orders at a time under the world's lock, all at
    the clock of the request, letting other requests in between chunks); ``currentBulkOperation`` says RUNNING until the file is
    written and it has been asked at least once, then COMPLETED with the file's URL.

    The query is held to Shopify's bulk restrictions (:func:`bulk_refusal`: at most five
    connections, nested at most two deep, none inside a list field) and refused with an
    ``INVALID`` userError otherwise; each line of the file holds exactly what the query selects of its node
    (:meth:`.shopify_paging.Paging.bulk_node`: aliases and fragments as on the synchronous endpoint).
    """
    try:
        wanted = selection(query) if isinstance(query, str) else {}
        shape = Paging(query) if wanted else None
    except (ValueError, IndexError, GraphQLError):
        wanted, shape = {}, None
    fields = _connection_nodes(wanted.get("orders")) if wanted else None
    why = "the sandbox runs a bulk query of orders only" if fields is None else bulk_refusal(wanted)
    if why:
        return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": why, "code": "INVALID"}]}
    running = world.shopify_bulk
    if running is not None and running["file"] is None and not running["failed"]:
        running_id = gid("BulkOperation", running["number"])
        message = f"A bulk query operation for this app and shop is already in progress: {running_id}."
        return {
            "bulkOperation": None,
            "userErrors": [{"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}],
        }
    stream = world.stream("shopify", "orders")
    now = world.now
    rows, _ = render.select(world, stream, {"o": "updated", "status": "any"}, len(stream) + 1, None)
    number = (world.shopify_bulk or {}).get("number", 0) + 1
    bulk = {"number": number, "created": now, "polls": 0, "file": None, "failed": False}
    world.shopify_bulk = bulk
    threading.Thread(target=_bulk_write, args=(world, render, bulk, rows, shape), daemon=True).start()
    operation = {"id": gid("BulkOperation", number), "status": "CREATED", "createdAt": iso_z(now)}
    return {"bulkOperation": operation, "userErrors": []}


BULK_CHUNK = 200
BULK_YIELD_SECONDS = 0.001  # between chunks, so the rest of the sandbox answers while a file is written
BULK_FILES_KEPT = 4


def _bulk_write(world, render, bulk: dict, rows: list, shape: Paging) -> None:
    try:
        _bulk_render(world, render, bulk, rows, shape)
    except Exception:  # as Shopify's INTERNAL_SERVER_ERROR: the operation fails, and the shop may start another
        logger.exception("sandbox: bulk operation %s failed writing its file", bulk["number"])
        bulk["failed"] = True


def _bulk_render(world, render, bulk: dict, rows: list, shape: Paging) -> None:
    stream = world.stream("shopify", "orders")
    now, lines = bulk["created"], []
    for start in range(0, len(rows), BULK_CHUNK):
        with world.lock:
            for updated, _, i in rows[start : start + BULK_CHUNK]:
                node = order(world, stream.objects[i], render.resource(world, "orders", stream, i, updated), now)
                own, *children = jsonl_lines(shape.bulk_node(node))
                how = world.corruption("shopify", "orders", str(stream.keys[i]))
                if how:  # the order's own line is broken; its children still name it
                    own = corrupt(own, how, id_field="id", list_field="lineItems", date_field="createdAt")
                lines += [dumps(line) + b"\n" for line in (own, *children)]
        # Let the requests waiting for the lock in: a thread that takes it again at once keeps it (the lock is not
        # fair), and the whole file would hold every vendor's answers for as long as it takes (about 10 s for
        # 65,000 orders), where Shopify writes its file beside the API.
        time.sleep(BULK_YIELD_SECONDS)
    bulk["file"] = b"".join(lines)
    with world.lock:  # as on Shopify, a finished file stays at its URL when the next operation starts
        world.shopify_bulk_files[bulk["number"]] = bulk["file"]
        for number in sorted(world.shopify_bulk_files)[:-BULK_FILES_KEPT]:
            del world.shopify_bulk_files[number]


def bulk_current(world, origin: str) -> dict | None:
    bulk = world.shopify_bulk
    if bulk is None:
        return None
    bulk["polls"] += 1
    done = bulk["file"] is not None and bulk["polls"] > 1
    return {
        "id": gid("BulkOperation", bulk["number"]),
        "status": "FAILED" if bulk["failed"] else "COMPLETED" if done else "RUNNING",
        "errorCode": "INTERNAL_SERVER_ERROR" if bulk["failed"] else None,
        "createdAt": iso_z(bulk["created"]),
        "completedAt": iso_z(bulk["created"]) if done else None,
        "objectCount": str(bulk["file"].count(b"\n")) if done else "0",
        "url": f"{origin}/bulk/{bulk['number']}.jsonl?signature=sandbox" if done and bulk["file"] else None,
    }


def bulk_file(world, req: Request) -> Response:
    """The JSONL file at its signed URL (no access token), honouring ``Range: bytes=N-``."""
    found = re.fullmatch(r"(\d+)\.jsonl", req.path.rsplit("/", 1)[-1])
    data = world.shopify_bulk_files.get(int(found[1])) if found else None
    if data is None or req.arg("signature") != "sandbox":
        return reply({"error": "NoSuchKey"}, 404)
    found = re.fullmatch(r"bytes=(\d+)-", req.header("Range"))
    if found is None:
        return Response(200, data)
    start = min(int(found[1]), len(data))
    return Response(206, data[start:], [("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")])


def jsonl_lines(node: dict, parent: str | None = None) -> list[dict]:
    """``node`` as Shopify's bulk JSONL: its line first, then each connection's nodes as lines naming it."""
    own: dict = {} if parent is None else {"__parentId": parent}
    children: list[dict] = []
    for key, value in node.items():
        if isinstance(value, dict) and isinstance(value.get("nodes"), list):
            for child in value["nodes"]:
                children += jsonl_lines(child, node["id"])
        elif key in BULK_LISTS and isinstance(value, list):
            items = []
            for item in value:
                line, *grandchildren = jsonl_lines(item, "")
                line.pop("__parentId")
                items.append(line)
                children += grandchildren
            own[key] = items
        else:
            own[key] = value
    return [own, *children]
