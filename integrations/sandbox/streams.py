"""Vendor object streams: who exists and when each last changed, as of any clock.

A vendor object is a list of change times ("versions"); as of a clock ``now`` it is
visible once its first version has passed, and its ``updated_at`` is its last version
at or before ``now``. Rendering is a pure function of the world at that version, so
the only per-clock work is this index: (updated_at, key, position) sorted, rebuilt
only when a version falls between the old and the new clock. Serving a page is then
a bisect and a slice.
"""

from __future__ import annotations

import base64
import json
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

INF = float("inf")
QUERY_CACHE = 16


class Stream:
    """One listable collection of a vendor (``shopify``/``orders``, ``odoo``/``stock.move`` ...)."""

    def __init__(
        self,
        vendor: str,
        name: str,
        objects: list,
        key: Callable[[Any], Any],
        versions: Callable[[Any], list[int]],
        external: Callable[[Any], str] | None = None,
    ):
        self.vendor, self.name = vendor, name
        self.objects = objects
        self.keys = [key(obj) for obj in objects]
        self.versions = [versions(obj) for obj in objects]
        self.externals = [external(obj) for obj in objects] if external else [str(k) for k in self.keys]
        self.mutations = 0
        self._times: list[int] | None = None
        self._visible: tuple[tuple[int, int], list] | None = None
        self._created: list | None = None
        self._by_external: dict[str, int] | None = None
        self._by_key: dict[Any, int] | None = None
        self._queries: OrderedDict = OrderedDict()
        self.memo: dict = {}  # per-stream facts a vendor view derives once (field lists, indexes)

    def __len__(self) -> int:
        return len(self.objects)

    def signature(self, now: int) -> tuple[int, int]:
        """Changes only when something in this stream changes: the cache key of a clock."""
        if self._times is None:
            self._times = sorted(t for v in self.versions for t in v)
        return bisect_right(self._times, now), self.mutations

    def visible(self, now: int) -> list[tuple[int, Any, int]]:
        """(updated_at, key, position) of every object that exists at ``now``, sorted."""
        sig = self.signature(now)
        if self._visible is not None and self._visible[0] == sig:
            return self._visible[1]
        rows = []
        keys = self.keys
        for i, v in enumerate(self.versions):
            if v[0] > now:
                continue
            rows.append((v[-1] if v[-1] <= now else v[bisect_right(v, now) - 1], keys[i], i))
        rows.sort()
        self._visible = (sig, rows)
        return rows

    def created_rows(self) -> list[tuple[int, Any, int]]:
        """(created_at, key, position) of every object, sorted; filter by ``created <= now``."""
        if self._created is None:
            self._created = sorted((v[0], self.keys[i], i) for i, v in enumerate(self.versions))
        return self._created

    def exists(self, i: int, now: int) -> bool:
        return self.versions[i][0] <= now

    def updated_at(self, i: int, now: int) -> int | None:
        v = self.versions[i]
        if v[0] > now:
            return None
        return v[-1] if v[-1] <= now else v[bisect_right(v, now) - 1]

    def find(self, external_id: str) -> int | None:
        if self._by_external is None:
            self._by_external = {ext: i for i, ext in enumerate(self.externals)}
        return self._by_external.get(str(external_id))

    def find_key(self, key: Any) -> int | None:
        if self._by_key is None:
            self._by_key = {k: i for i, k in enumerate(self.keys)}
        return self._by_key.get(key)

    def bump(self, i: int, t: int) -> None:
        """Record a change of object ``i`` at ``t`` (corrupt/repair): it syncs again."""
        if t not in self.versions[i]:
            insort(self.versions[i], t)
        self.mutations += 1
        self._times = None
        self._created = None

    def query(self, key: Any, now: int, build: Callable[[], list[int]]) -> list[int]:
        """Memoise the matches of an offset-paged query for the current clock."""
        full = (key, self.signature(now))
        hit = self._queries.get(full)
        if hit is None:
            hit = build()
            self._queries[full] = hit
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        else:
            self._queries.move_to_end(full)
        return hit


def walk(
    rows: list[tuple],
    *,
    limit: int,
    accept: Callable[[int], bool] | None = None,
    low: int | None = None,
    high: int | None = None,
    after: tuple | None = None,
    desc: bool = False,
) -> tuple[list[tuple], bool]:
    """Keyset paging over sorted ``(value, key, position)`` rows.

    ``low``/``high`` bound ``value`` inclusively; ``after`` is the (value, key) of the
    last row already served; ``desc`` walks from the top. Returns up to ``limit`` rows
    and whether more match.
    """
    out: list[tuple] = []
    if not desc:
        start = bisect_left(rows, (low,)) if low is not None else 0
        if after is not None:
            start = max(start, bisect_right(rows, (after[0], after[1], INF)))
        for n in range(start, len(rows)):
            row = rows[n]
            if high is not None and row[0] > high:
                break
            if accept is None or accept(row[2]):
                if len(out) == limit:
                    return out, True
                out.append(row)
        return out, False
    end = bisect_left(rows, (high + 1,)) if high is not None else len(rows)
    if after is not None:
        end = min(end, bisect_left(rows, (after[0], after[1], -1)))
    for n in range(end - 1, -1, -1):
        row = rows[n]
        if low is not None and row[0] < low:
            break
        if accept is None or accept(row[2]):
            if len(out) == limit:
                return out, True
            out.append(row)
    return out, False


def encode_token(state: dict) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict:
    """The state of a paging token; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid paging token") from exc
    if not isinstance(state, dict):
        raise ValueError("invalid paging token")
    return state
