"""Seeded random draws shared by the sandbox's world (``generate.py``) and the bench's data (``tests/bench/benchdata/``).

Plain ``random()`` arithmetic: several times cheaper than ``randrange``/``choice``, which
matters at a million orders.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from contextlib import contextmanager


class Draws:
    """Draws over ``self.rng``; a subclass sets ``rng`` (a seeded ``random.Random``) and ``random`` (its method)."""

    rng: random.Random

    @contextmanager
    def drawing_from(self, rng: random.Random) -> Iterator[None]:
        """Draw from ``rng`` for a while (a stream of its own leaves the main one's later draws as they were)."""
        saved = self.rng, self.random
        self.rng, self.random = rng, rng.random
        try:
            yield
        finally:
            self.rng, self.random = saved

    def u(self, low: int, high: int) -> int:
        """A uniform int in [low, high)."""
        return low + int(self.random() * (high - low))

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def token(self, length: int, upper: bool = False) -> str:
        """``length`` random letters and digits like the vendors' ids (``upper``: capitals and digits only)."""
        if upper:
            raw = self.rng.getrandbits(5 * length + 8).to_bytes((5 * length + 15) // 8, "big")
            return base64.b32encode(raw).decode()[:length]
        raw = self.rng.getrandbits(6 * length + 8).to_bytes((6 * length + 15) // 8, "big")
        return base64.b64encode(raw)[:length].decode().replace("+", "K").replace("/", "q")

    def variant_email(self, email: str, share: float) -> str:
        """The same address as someone typed it (with probability ``share``): sometimes Capitalised, rarely SHOUTED."""
        roll = self.random()
        if roll >= share:
            return email
        if roll < share * 0.2:
            return email.upper()
        local, domain = email.split("@")
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()


def choose(shares, roll: float) -> str:
    """The entry of ``(name, share)`` pairs that a uniform ``roll`` in [0, 1) falls on."""
    for name, share in shares:
        if roll < share:
            return name
        roll -= share
    return shares[-1][0]
