"""A GraphQL answer shaped as Shopify shapes it: exactly the fields selected, nested pages cut to their sizes.

The sandbox renders a node whole (every field, every line item, fulfilment, refund and
transaction of an order); Shopify answers only what a query selects, at the sizes it asks for.
This walks the parsed document (``graphql-core``, parsed once: :func:`.shopify_cost._parsed`)
beside the rendered answer, as a GraphQL executor does:

* each object holds exactly the fields its selection names, under their response keys (the
  alias when one is given), fields of one key merged; ``__typename`` only when asked
  (:mod:`.shopify_types` tells an object's type); inline fragments and fragment spreads apply
  by their type condition (``nodes(ids:) { ... on Order { … } }`` to orders only). A field the
  sandbox does not render is left out of the answer, as it was when answers were whole;
* each occurrence of a field is answered with its own arguments: ``a: lineItems(first: 1)`` and
  ``b: lineItems(first: 2, after: $c)`` beside it are two pages;
* a connection (``{"nodes": [...]}``) asked with ``first`` (and ``after``) or ``last`` (and
  ``before``) keeps that page of nodes, with ``pageInfo {hasNextPage hasPreviousPage
  startCursor endCursor}`` and ``edges {cursor node}`` as selected;
* a sized list (``fulfillments(first:)``, ``refunds(first:)``, ``transactions(first:)``,
  ``trackingInfo(first:)``: Shopify gives them no ``pageInfo``) keeps its first (or last) items;
* a cursor is opaque and stable: it names the node's id, so the next page starts after that
  node whatever was added after it. A cursor that is not one of the connection's is refused, as
  Shopify refuses it;
* as Shopify refuses them: a nested connection asked with neither ``first`` nor ``last`` ("you
  must provide one of first or last"), ``last`` without ``before``, and a size outside 0–250.

The root fields are not paged here: ``orders``/``customers`` page themselves (``_page``),
``nodes(ids:)`` and ``order(id:)`` are single objects; each root field is answered with its own
arguments (:meth:`Paging.roots`), so two aliases of one root field get their own answers. A mutation's
payload is selected, not paged; a bulk operation's node (:meth:`Paging.bulk_node`) is selected
whole, as Shopify's bulk ignores sizes, each connection in it kept as ``{"nodes": [...]}`` for the
file's writer to put on lines of their own.
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
from .shopify_types import MUTATION_ROOT, QUERY_ROOT, applies, node_type, typename

MAX_PAGE = 250  # the most items Shopify answers in one page of a connection or sized list


PAGED, WHOLE, BULK = "paged", "whole", "bulk"  # a query's answer; a mutation's payload; a bulk file's node


class Paging:
    """One GraphQL document with its variables, ready to shape an answer: what it selects, its pages cut."""

    def __init__(self, document: str, variables: dict[str, Any] | None = None):
        parsed = _parsed(document)
        self.variables = variables or {}
        self.fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        self.operation = operations[0] if len(operations) == 1 else None

    def roots(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Each root field the operation asks for but ``__typename``: its response key, its name, its arguments."""
        if self.operation is None:
            return []
        kind = QUERY_ROOT if self.operation.operation.value == "query" else MUTATION_ROOT
        groups = self._collect([self.operation.selection_set], kind, {})
        return [
            (key, fields[0].name.value, self._arguments(fields[0]))
            for key, fields in groups.items()
            if fields[0].name.value != "__typename"
        ]

    def shaped(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (each root field's answer under its response key) as Shopify answers the document.

        The fields it selects under their response keys, pages cut. A new dict: ``data`` is not changed. A
        mutation's payload is selected but not paged.
        """
        if self.operation is None:
            return data
        query = self.operation.operation.value == "query"
        kind = QUERY_ROOT if query else MUTATION_ROOT
        return self._object([self.operation.selection_set], data, kind, PAGED if query else WHOLE, root=True)

    def bulk_node(self, node: dict[str, Any], root: str = "orders") -> dict[str, Any]:
        """``node`` (one of ``root``'s) as a bulk query selects it; each connection in it ``{"nodes": [...]}``."""
        fields = self._collect([self.operation.selection_set], QUERY_ROOT, {}).values() if self.operation else ()
        connections = [f.selection_set for group in fields for f in group if f.name.value == root and f.selection_set]
        selections = self._node_selections(connections, f"{node_type(root)}Connection")
        return self._object(selections, node, typename(node, "nodes", None), BULK)

    # -- the walk -------------------------------------------------------------------------------
    def _collect(self, selections: list[SelectionSetNode], kind: str | None, value: dict) -> dict[str, list]:
        """The fields of ``selections`` for an object of type ``kind``, grouped by response key (alias or name).

        Fragments apply by their type condition (:func:`.shopify_types.applies`); fields of one key are
        merged, as GraphQL merges them (``id`` in an order's own selection and in a fragment on it).
        """
        groups: dict[str, list[FieldNode]] = {}

        def visit(selection: SelectionSetNode) -> None:
            for node in selection.selections:
                if isinstance(node, FieldNode):
                    groups.setdefault((node.alias or node.name).value, []).append(node)
                elif isinstance(node, InlineFragmentNode):
                    condition = node.type_condition.name.value if node.type_condition else None
                    if applies(condition, kind, value):
                        visit(node.selection_set)
                elif isinstance(node, FragmentSpreadNode):
                    fragment = self._fragment(node.name.value)
                    if applies(fragment.type_condition.name.value, kind, value):
                        visit(fragment.selection_set)

        for selection in selections:
            visit(selection)
        return groups

    def _fragment(self, name: str) -> FragmentDefinitionNode:
        if name not in self.fragments:
            raise VendorError(200, {"errors": [{"message": f"Fragment {name} was used, but not defined"}]})
        return self.fragments[name]

    def _object(
        self, selections: list[SelectionSetNode], value: dict, kind: str | None, mode: str, root: bool = False
    ) -> dict[str, Any]:
        """The fields of ``value`` (of type ``kind``) that ``selections`` select, each under its response key.

        A field the sandbox does not render stays out of the answer, as it was before answers were selected.
        """
        out: dict[str, Any] = {}
        for key, fields in self._collect(selections, kind, value).items():
            name = fields[0].name.value
            if name == "__typename":
                out[key] = kind
            elif (key if root else name) in value:  # the root's answers are each root field's, by response key
                held = value[key if root else name]
                inner = [f.selection_set for f in fields if f.selection_set is not None]
                out[key] = self._field(fields[0], inner, held, kind, mode, root) if inner else held
        return out

    def _field(
        self, field: FieldNode, inner: list[SelectionSetNode], value: Any, owner: str | None, mode: str, root: bool
    ) -> Any:
        """One field's value, its page cut (a nested connection or sized list of a query), then selected."""
        name = field.name.value
        if mode == PAGED and not root:  # a root field pages itself (``orders``) or is one object
            arguments = self._arguments(field)
            if "first" in arguments or "last" in arguments:
                value = self._page(arguments, value)
            elif _connection(value):  # Shopify answers no connection whole
                raise VendorError(200, {"errors": [{"message": "you must provide one of first or last"}]})
        if mode == BULK and _connection(value):  # a bulk file's connection: its nodes, each a line of its own
            nodes = self._node_selections(inner, typename(value, name, owner))
            return {"nodes": [self._value(nodes, node, "nodes", None, mode) for node in value["nodes"]]}
        return self._value(inner, value, name, owner, mode)

    def _arguments(self, field: FieldNode) -> dict[str, Any]:
        return {a.name.value: _given(value_from_ast_untyped(a.value, self.variables)) for a in field.arguments or ()}

    def _value(self, selections: list[SelectionSetNode], value: Any, field: str, owner: str | None, mode: str) -> Any:
        """``value`` (an object, a list of objects or a scalar) as ``selections`` select it."""
        if isinstance(value, list):
            return [self._value(selections, item, field, owner, mode) for item in value]
        if not isinstance(value, dict):
            return value
        return self._object(selections, value, typename(value, field, owner), mode)

    def _page(self, arguments: dict[str, Any], value: Any) -> Any:
        """The page of a connection or sized list that ``first``/``after`` or ``last``/``before`` ask for."""
        if isinstance(value, list):  # a sized list: no cursors, no pageInfo
            if arguments.get("first") is not None:
                return value[: _size(arguments["first"])]
            return value[max(0, len(value) - _size(arguments["last"])) :]
        if not _connection(value):
            return value
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
        page = nodes[start:end]
        cursors = [encode_token({"c": key}) for key in keys[start:end]]
        return {
            **value,
            "nodes": page,
            "edges": [{"cursor": c, "node": node} for c, node in zip(cursors, page, strict=True)],
            "pageInfo": {
                "hasNextPage": end < len(nodes),
                "hasPreviousPage": start > 0,
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
            },
        }

    def _node_selections(self, selections: list[SelectionSetNode], kind: str | None) -> list[SelectionSetNode]:
        """The selections of one node of a connection: under ``nodes`` or ``edges { node }``."""
        found = []
        for fields in self._collect(selections, kind, {}).values():
            for field in fields:
                if field.name.value == "nodes" and field.selection_set is not None:
                    found.append(field.selection_set)
                elif field.name.value == "edges" and field.selection_set is not None:
                    edge = (kind or "").removesuffix("Connection") + "Edge" if kind else None
                    for inner in self._collect([field.selection_set], edge, {}).values():
                        found += [f.selection_set for f in inner if f.name.value == "node" and f.selection_set]
        return found


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
