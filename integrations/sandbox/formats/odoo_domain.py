"""Odoo search domains: parse, validate and evaluate the subset the sandbox supports.

A domain is Odoo's prefix notation: leaves ``[field, operator, value]`` joined by
``"&"`` (implicit between top-level terms), ``"|"`` and ``"!"``. Operators: ``=``,
``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``, ``not in``; anything else is refused the
way Odoo refuses it. Datetime values may be written ``YYYY-MM-DD HH:MM:SS``,
``YYYY-MM-DD`` or ISO-8601 and compare as Odoo's zone-less UTC text.
"""

from __future__ import annotations

from typing import Any

from ..model import odoo_dt, parse_time

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "in", "not in")
DATETIME_FIELDS = frozenset(
    {
        "write_date",
        "create_date",
        "date_order",
        "commitment_date",
        "scheduled_date",
        "date_deadline",
        "date_done",
        "date",
        "in_date",
    }
)


class DomainError(ValueError):
    """A domain Odoo would refuse; the message is Odoo's."""


def parse(domain: Any, model: str, fields: frozenset[str]) -> tuple:
    """The domain as a tree: ("and", a, b) / ("or", a, b) / ("not", a) / ("leaf", f, op, v)."""
    if domain in (None, False):
        return ("true",)
    if not isinstance(domain, list):
        raise DomainError(f"Invalid domain: {domain!r}")
    terms = list(domain)
    pos = 0

    def term():
        nonlocal pos
        if pos >= len(terms):
            raise DomainError(f"Invalid domain (missing operand): {domain!r}")
        item = terms[pos]
        pos += 1
        if item in ("&", "|"):
            left = term()
            return ("and" if item == "&" else "or", left, term())
        if item == "!":
            return ("not", term())
        return leaf(item)

    def leaf(item):
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise DomainError(f"Invalid leaf {item!r}")
        name, op, value = item
        if not isinstance(name, str) or name not in fields:
            raise DomainError(f"Invalid field {model}.{name} in leaf {item!r}")
        op = str(op).lower()
        if op not in OPERATORS:
            raise DomainError(
                f"Invalid leaf {list(item)!r}: unsupported operator {op!r}; the sandbox supports {', '.join(OPERATORS)}"
            )
        if op in ("in", "not in"):
            if not isinstance(value, list | tuple):
                raise DomainError(f"Invalid leaf {list(item)!r}: '{op}' needs a list")
            value = [_datetime(name, v) for v in value]
        else:
            value = _datetime(name, value)
        return ("leaf", name, op, value)

    tree = ("true",)
    while pos < len(terms):
        node = term()
        tree = node if tree == ("true",) else ("and", tree, node)
    return tree


def _datetime(name: str, value: Any) -> Any:
    if name not in DATETIME_FIELDS or value is False or value is None:
        return value
    try:
        return odoo_dt(parse_time(str(value)))
    except ValueError:
        raise DomainError(f"Invalid datetime value {value!r} for field {name}") from None


def conjunction(tree: tuple) -> list[tuple] | None:
    """The leaves of a tree made only of "and"s, else None."""
    if tree[0] == "true":
        return []
    if tree[0] == "leaf":
        return [tree]
    if tree[0] == "and":
        left, right = conjunction(tree[1]), conjunction(tree[2])
        if left is not None and right is not None:
            return left + right
    return None


def matches(tree: tuple, record: dict) -> bool:
    kind = tree[0]
    if kind == "true":
        return True
    if kind == "and":
        return matches(tree[1], record) and matches(tree[2], record)
    if kind == "or":
        return matches(tree[1], record) or matches(tree[2], record)
    if kind == "not":
        return not matches(tree[1], record)
    _, name, op, target = tree
    value = record.get(name, False)
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
        value = value[0]  # many2one [id, name]
    if op in ("in", "not in"):
        if isinstance(value, list):  # x2many
            found = any(v in target for v in value)
        else:
            found = value in target or (value is False and False in target)
        return found if op == "in" else not found
    if op == "=":
        return value == target or (value is False and target in (False, None))
    if op == "!=":
        return not (value == target or (value is False and target in (False, None)))
    if value is False or value is None or target is False or target is None:
        return False
    try:
        if op == ">":
            return value > target
        if op == ">=":
            return value >= target
        if op == "<":
            return value < target
        return value <= target
    except TypeError:
        return False


def bounds(tree: tuple, field: str = "write_date") -> tuple[int | None, int | None]:
    """Inclusive (low, high) epoch bounds on ``field`` that every match satisfies.

    The keyset domain adapters page with, ``write_date > s OR (write_date = s AND id >
    k)``, bounds to ``write_date >= s``: the search starts there instead of at the top.
    """
    kind = tree[0]
    if kind == "leaf":
        _, name, op, value = tree
        if name != field or not isinstance(value, str):
            return None, None
        stamp = parse_time(value)
        return {
            ">": (stamp + 1, None),
            ">=": (stamp, None),
            "=": (stamp, stamp),
            "<": (None, stamp - 1),
            "<=": (None, stamp),
        }.get(op, (None, None))
    if kind in ("and", "or"):
        (low1, high1), (low2, high2) = bounds(tree[1], field), bounds(tree[2], field)
        if kind == "and":
            lows, highs = (
                [v for v in (low1, low2) if v is not None],
                [v for v in (high1, high2) if v is not None],
            )
            return (max(lows) if lows else None), (min(highs) if highs else None)
        low = min(low1, low2) if low1 is not None and low2 is not None else None
        high = max(high1, high2) if high1 is not None and high2 is not None else None
        return low, high
    return None, None
