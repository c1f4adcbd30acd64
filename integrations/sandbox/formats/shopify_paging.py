"""Nested connections and sized lists cut to the page a GraphQL document asks for, as Shopify answers them.

The sandbox renders a node whole (every line item, fulfilment, refund and transaction of an
order); Shopify answers only what a query's sizes ask for. This walks the parsed document
(``graphql-core``, parsed once: :func:`.shopify_cost._parsed`) beside the rendered answer and,
below each root field:

* a connection (``{"nodes": [...]}``) asked with ``first`` (and ``after``) or ``last`` (and
  ``before``) keeps that page of nodes, with ``pageInfo {hasNextPage hasPreviousPage
  startCursor endCursor}`` and, if the selection asks for them, ``edges {cursor node}``;
* a sized list (``fulfillments(first:)``, ``refunds(first:)``, ``transactions(first:)``,
  ``trackingInfo(first:)``: Shopify gives them no ``pageInfo``) keeps its first (or last) items;
* a cursor is opaque and stable: it names the node's id, so the next page starts after that
  node whatever was added after it. A cursor that is not one of the connection's is refused, as
  Shopify refuses it;
* as Shopify refuses them: a nested connection asked with neither ``first`` nor ``last`` ("you
  must provide one of first or last"), ``last`` without ``before``, and a size outside 0–250.

The root fields are left as they are: ``orders``/``customers`` page themselves (``_page``),
``nodes(ids:)`` and ``order(id:)`` are single objects. A mutation's payload is left whole, and so
is a bulk operation's file (Shopify's bulk ignores sizes). Fields are matched by name (the sandbox
renders no aliases); inline fragments and fragment spreads are merged into their parent.
"""

from __future__ import annotations

from typing import Any

from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.pyutils import Undefined
from graphql.utilities import value_from_ast_untyped

from ..streams import decode_token, encode_token
from . import VendorError
from .shopify_cost import _parsed

MAX_PAGE = 250  # the most items Shopify answers in one page of a connection or sized list


class Paging:
    """One GraphQL document with its variables, ready to cut an answer's nested connections to their pages."""

    def __init__(self, document: str, variables: dict[str, Any] | None = None):
        parsed = _parsed(document)
        self.variables = variables or {}
        self.fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        self.operation = operations[0] if len(operations) == 1 else None

    @property
    def root(self) -> str | None:
        """The name of the operation's first root field (None for a document the sandbox cannot answer)."""
        if self.operation is None:
            return None
        fields = self._fields(self.operation.selection_set)
        return fields[0].name.value if fields else None

    def shaped(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with what its root fields hold cut to the sizes asked for (a new dict: ``data`` is not changed)."""
        if self.operation is None or self.operation.operation.value != "query":
            return data
        out = dict(data)
        for field in self._fields(self.operation.selection_set):
            name = field.name.value
            if name in out and field.selection_set is not None:
                out[name] = self._value(field.selection_set, out[name])
        return out

    # -- the walk -------------------------------------------------------------------------------
    def _fields(self, selection: SelectionSetNode) -> list[FieldNode]:
        """The fields of ``selection``, fragments merged in, in document order."""
        found: list[FieldNode] = []
        for node in selection.selections:
            if isinstance(node, FieldNode):
                found.append(node)
            elif isinstance(node, InlineFragmentNode):
                found += self._fields(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                found += self._fields(self.fragments[node.name.value].selection_set)
        return found

    def _value(self, selection: SelectionSetNode, value: Any) -> Any:
        """``value`` (an object, a list of objects or a scalar) with its selected fields paged."""
        if isinstance(value, list):
            return [self._value(selection, item) for item in value]
        if not isinstance(value, dict):
            return value
        out = dict(value)
        for field in self._fields(selection):
            name = field.name.value
            if name not in value or field.selection_set is None:
                continue
            arguments = {
                a.name.value: _given(value_from_ast_untyped(a.value, self.variables)) for a in field.arguments or ()
            }
            if "first" in arguments or "last" in arguments:
                out[name] = self._page(field, arguments, value[name])
            elif _connection(value[name]):  # Shopify answers no connection whole
                raise VendorError(200, {"errors": [{"message": "you must provide one of first or last"}]})
            else:
                out[name] = self._value(field.selection_set, value[name])
        return out

    def _page(self, field: FieldNode, arguments: dict[str, Any], value: Any) -> Any:
        if isinstance(value, list):  # a sized list: no cursors, no pageInfo
            if arguments.get("first") is not None:
                items = value[: _size(arguments["first"])]
            else:
                items = value[max(0, len(value) - _size(arguments["last"])) :]
            return self._value(field.selection_set, items)
        if not isinstance(value, dict) or not isinstance(value.get("nodes"), list):
            return self._value(field.selection_set, value)
        if arguments.get("last") is not None and arguments.get("before") is None:
            raise VendorError(200, {"errors": [{"message": "using last without before is not supported"}]})
        nodes = value["nodes"]
        keys = [_key(node, n) for n, node in enumerate(nodes)]
        start, end = 0, len(nodes)
        if arguments.get("after") is not None:
            start = _position(keys, arguments["after"]) + 1
        if arguments.get("before") is not None:
            end = _position(keys, arguments["before"])
        end = max(start, end)
        if arguments.get("first") is not None:
            end = min(end, start + _size(arguments["first"]))
        if arguments.get("last") is not None:
            start = max(start, end - _size(arguments["last"]))
        node_selection = self._node_selection(field.selection_set)
        page = [self._value(node_selection, node) if node_selection else node for node in nodes[start:end]]
        cursors = [encode_token({"c": key}) for key in keys[start:end]]
        out = {
            **value,
            "nodes": page,
            "pageInfo": {
                "hasNextPage": end < len(nodes),
                "hasPreviousPage": start > 0,
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
            },
        }
        if any(f.name.value == "edges" for f in self._fields(field.selection_set)):
            out["edges"] = [{"cursor": c, "node": node} for c, node in zip(cursors, page, strict=True)]
        return out

    def _node_selection(self, selection: SelectionSetNode) -> SelectionSetNode | None:
        """The selection of one node of a connection: under ``nodes`` or ``edges { node }``."""
        for field in self._fields(selection):
            if field.name.value == "nodes":
                return field.selection_set
            if field.name.value == "edges" and field.selection_set is not None:
                inner = next((f for f in self._fields(field.selection_set) if f.name.value == "node"), None)
                if inner is not None:
                    return inner.selection_set
        return None


def _given(value: Any) -> Any:
    """An argument's value; None for a variable the request did not give (``after: $after`` on a first page)."""
    return None if value is Undefined else value


def _key(node: Any, position: int) -> Any:
    """What a cursor names: the node's id (stable while nodes are added), else its position."""
    return node["id"] if isinstance(node, dict) and node.get("id") else position


def _connection(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("nodes"), list)


def _size(value: Any) -> int:
    """A page's ``first``/``last``: 0 to 250, as Shopify allows (the message is the sandbox's own wording)."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise VendorError(
            200, {"errors": [{"message": f"Argument first/last must be an Int, not {value!r}"}]}
        ) from None
    if not 0 <= size <= MAX_PAGE:
        raise VendorError(200, {"errors": [{"message": f"first/last must be between 0 and {MAX_PAGE}, not {size}"}]})
    return size


def _position(keys: list[Any], cursor: Any) -> int:
    try:
        key = decode_token(str(cursor))["c"]
        return keys.index(key)
    except (ValueError, KeyError):
        message = f"Invalid cursor for current pagination sort: {cursor}"
        raise VendorError(200, {"errors": [{"message": message}]}) from None
