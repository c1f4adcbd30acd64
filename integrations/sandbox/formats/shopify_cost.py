"""Shopify's calculated query cost, worked out from the GraphQL document as Shopify documents it.

Shopify (GraphQL Admin API rate limits, "Cost calculation") gives every field a cost by what
it returns: a scalar or an enum 0, an object 1, an interface or a union the most expensive of
its possible selections, a connection "sized by the first and last arguments" (two points,
plus the cost of one of its objects times the number asked for), a mutation 10. The *requested*
cost is worked out before the query runs, from the sizes asked for; a query requesting more
than 1,000 is refused (``MAX_COST_EXCEEDED``) whatever the plan. The *actual* cost is the same
sum over what was returned, and is what the bucket is charged.

This module applies those rules to a document parsed with ``graphql-core``, without Shopify's
schema. It reads the schema's shape from the document itself, as Shopify's APIs are regular:

* a field with no selection is a scalar or an enum (0);
* a field with a ``first``/``last`` argument is a connection or a sized list: 2 plus that many
  times one of its objects (the selection under ``nodes`` or ``edges { node }``, or the field's
  own selection for a list such as ``Order.fulfillments(first:)``); ``pageInfo`` is part of the 2;
* ``nodes(ids:)`` is a list of as many objects as ids;
* any other field with a selection is an object (1 plus its selection); of sibling inline
  fragments (the possible types of an interface or a union) the most expensive counts.

Given the answer's ``data``, the same walk counts what came back instead of what was asked for:
the actual cost.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from graphql import GraphQLError, parse
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

MAX_QUERY_COST = 1000  # Shopify refuses a single query that requests more, on every plan
MUTATION_COST = 10
SIZE_ARGUMENTS = ("first", "last")
ASKED = object()  # in place of the answer: the walk counts what the query asks for


class QueryCost:
    """The cost of one GraphQL document with its variables (raises ``GraphQLError`` for a document that does not parse)."""

    def __init__(self, document: str, variables: dict[str, Any] | None = None):
        parsed = _parsed(document)
        self.variables = variables or {}
        self.fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1:
            raise GraphQLError("one operation per document")
        self.operation = operations[0]

    @property
    def is_mutation(self) -> bool:
        return self.operation.operation.value == "mutation"

    def requested(self) -> int:
        """What the query asks for at most: connections at the sizes requested."""
        return MUTATION_COST if self.is_mutation else self._selection(self.operation.selection_set, ASKED)

    def actual(self, data: dict[str, Any] | None) -> int:
        """What the answer holds: connections at the number of objects returned, nothing for a null."""
        return MUTATION_COST if self.is_mutation else self._selection(self.operation.selection_set, data or {})

    # -- the walk: ``data`` is ASKED for the requested cost, the answer's value for the actual one -------------
    def _selection(self, selection: SelectionSetNode, data) -> int:
        fields, alternatives = 0, []
        for node in selection.selections:
            if isinstance(node, FieldNode):
                fields += self._field(node, _value(data, node))
            elif isinstance(node, InlineFragmentNode):
                alternatives.append(self._selection(node.selection_set, data))
            elif isinstance(node, FragmentSpreadNode):
                fields += self._selection(self.fragments[node.name.value].selection_set, data)
        return fields + max(alternatives, default=0)

    def _field(self, field: FieldNode, data) -> int:
        if field.selection_set is None or field.name.value == "pageInfo" or data is None:
            return 0  # a scalar, an enum, part of a connection's two points, or a null that came back
        ids = self._argument(field, "ids")
        if field.name.value == "nodes" and ids is not None:  # the root's nodes(ids:): one object per id
            return self._objects(field.selection_set, ids, data)
        if any(argument.name.value in SIZE_ARGUMENTS for argument in field.arguments or ()):
            size = next((n for n in (self._argument(field, a) for a in SIZE_ARGUMENTS) if n is not None), 0)
            return 2 + self._connection(field.selection_set, size, data)
        if isinstance(data, list):  # a list the query does not size: counted as one of its objects
            data = next((item for item in data if isinstance(item, dict)), {})
        return 1 + self._selection(field.selection_set, data)

    def _connection(self, selection: SelectionSetNode, size: int, data) -> int:
        """A connection's objects (under ``nodes`` or ``edges { node }``), or a sized list's own."""
        for node in selection.selections:
            if isinstance(node, FieldNode) and node.name.value == "nodes":
                return self._objects(node.selection_set, size, _value(data, node))
            if isinstance(node, FieldNode) and node.name.value == "edges":
                inner = next(  # the edge's node (beside it, a scalar cursor costs nothing)
                    n for n in node.selection_set.selections if isinstance(n, FieldNode) and n.name.value == "node"
                )
                edges = _value(data, node)
                if edges is not ASKED:
                    edges = [_value(edge, inner) for edge in edges or ()]
                return self._objects(inner.selection_set, size, edges)
        return self._objects(selection, size, data)

    def _objects(self, selection: SelectionSetNode, size: int, data) -> int:
        if data is ASKED:
            return size * (1 + self._selection(selection, ASKED))
        return sum(1 + self._selection(selection, item) for item in data or () if isinstance(item, dict))

    def _argument(self, field: FieldNode, name: str) -> int | None:
        for argument in field.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
                return len(value) if isinstance(value, list) else _int(value)
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, ListValueNode):
                return len(value.values)
        return None


@lru_cache(maxsize=64)
def _parsed(document: str) -> DocumentNode:
    """A client sends the same few documents again and again: each is parsed once."""
    return parse(document)


def _value(data, field: FieldNode):
    """The answer's value of ``field`` in ``data`` (ASKED stays ASKED: the requested walk has no answer)."""
    if data is ASKED:
        return ASKED
    return data.get((field.alias or field.name).value) if isinstance(data, dict) else None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
