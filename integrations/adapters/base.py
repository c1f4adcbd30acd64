"""What every vendor adapter is: fetch pages from a cursor, map payloads to records.

An adapter does nothing else: no database access, no correlation. The sync engine
(``integrations/sync.py``) stores what it fetches, dead-letters what it cannot map
and hands the records to ``orders/ingest/`` (``orders.ingest.ingest``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from ..hosts import HostGuard
from ..http import HttpClient
from ..records import (
    CustomerRecord,
    LocationRecord,
    MappingError,
    MoveRecord,
    OrderPaymentRecord,
    OrderReturnRecord,
    PickingRecord,
    StockRecord,
    TrackerRecord,
    UpstreamOrder,
)

MappedRecord = (
    CustomerRecord
    | LocationRecord
    | UpstreamOrder
    | StockRecord
    | TrackerRecord
    | PickingRecord
    | MoveRecord
    | OrderPaymentRecord
    | OrderReturnRecord
)


@dataclass(frozen=True)
class Page:
    """One page of raw vendor payloads and the cursor to commit once it has landed.

    ``cursor`` must let a new run resume right after this page; when ``has_more`` is
    false it is the cursor the next incremental run starts from.
    """

    items: list[Any]
    cursor: dict[str, Any]
    has_more: bool

    @classmethod
    def more(cls, items: list[Any], /, **cursor: Any) -> Page:
        """A page with more to come; cursor entries whose value is empty (``""``, None, 0) are left out."""
        return cls(items=items, cursor={key: value for key, value in cursor.items() if value}, has_more=True)

    @classmethod
    def final(cls, items: list[Any], /, **cursor: Any) -> Page:
        """The last page of a run; empty cursor entries are left out, as in :meth:`more`."""
        return cls(items=items, cursor={key: value for key, value in cursor.items() if value}, has_more=False)


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook delivery, reduced to what the pipeline needs."""

    event_id: str
    topic: str
    stream: str
    payload: Any
    extra: dict[str, Any] = field(default_factory=dict)
    delivery_id: str = ""  # the vendor's id of this delivery, the same on its redeliveries (X-Shopify-Webhook-Id)


@dataclass(frozen=True)
class CollectedLine:
    """One line a customer collected at the counter: the SKU and how many (2.5 of a line sold by measure)."""

    sku: str
    quantity: int | Decimal


def collected_allocate(
    lines: list[CollectedLine], fulfillment_orders: list[tuple[Any, list[tuple[Any, str, int]]]]
) -> list[tuple[Any, list[tuple[Any, int]]]]:
    """Spread the collected lines over what is still fulfillable: ``[(fulfillment order, [(item, quantity)])]``.

    ``fulfillment_orders``: ``[(id, [(item id, sku, still fulfillable)])]``, in the vendor's order. A line
    already fulfilled is not asked again, so a push repeated after a lost answer allocates nothing.
    """
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    batches = []
    for order_id, items in fulfillment_orders:
        taken = []
        for item_id, sku, left in items:
            quantity = min(left, wanted.get(sku, 0))
            if quantity > 0:
                taken.append((item_id, quantity))
                wanted[sku] -= quantity
        if taken:
            batches.append((order_id, taken))
    return batches


class WebhookSignatureError(Exception):
    """The webhook's signature is missing or wrong; answer 401 and write nothing."""


class Adapter(ABC):
    """Base class of one vendor API. Subclasses set ``name``, ``kind``, ``streams`` and ``mappers``."""

    name: ClassVar[str]
    kind: ClassVar[str]  # a Source.Kind value
    streams: ClassVar[tuple[str, ...]]
    required_credentials: ClassVar[tuple[str, ...]] = ()
    # Records a page asks for when the source sets none (each adapter still caps it at its vendor's maximum).
    default_page_size: ClassVar[int] = 250
    # The vendor's API hosts a source may point at (see integrations/hosts.py); None: any public https host.
    allowed_hosts: ClassVar[tuple[str, ...] | None] = ()
    # stream -> the pure function mapping one of its payloads (see :meth:`map`)
    mappers: ClassVar[Mapping[str, Callable[[Any], MappedRecord]]] = {}

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, str],
        page_size: int | None = None,
        client: HttpClient | None = None,
        guard: HostGuard | None = None,
    ):
        missing = [name for name in self.required_credentials if not credentials.get(name)]
        if missing:
            raise ValueError(f"{self.name} source needs credential(s): {', '.join(missing)}")
        self.base_url = base_url.rstrip("/")
        self.credentials = dict(credentials)
        self.page_size = page_size or self.default_page_size
        self.client = client or HttpClient(base_url=self.base_url, headers=self.auth_headers(), guard=guard)

    def auth_headers(self) -> dict[str, str]:
        return {}

    @abstractmethod
    def fetch(self, stream: str, cursor: Mapping[str, Any]) -> Page:
        """Fetch the page of ``stream`` that starts at ``cursor`` (``{}`` means from the beginning)."""

    def external_id(self, stream: str, payload: Any) -> str:
        """The payload's id in the vendor system, or ``""`` when it has none (a malformed record).

        By default the payload's ``id`` as a string; ``""`` when the payload is not an
        object or its ``id`` is absent, null, a boolean or ``""``. Vendors whose ids look
        otherwise override this.
        """
        value = payload.get("id") if isinstance(payload, dict) else None
        if value is None or isinstance(value, bool) or value == "":
            return ""
        return str(value)

    def map(self, stream: str, payload: Any) -> MappedRecord:
        """Map one payload to a record. Pure. Raises ``MappingError`` or pydantic ``ValidationError``.

        By default the stream's function in :attr:`mappers`; a stream without one raises
        ``MappingError`` (the payload becomes a dead letter).
        """
        mapper = self.mappers.get(stream)
        if mapper is None:
            raise MappingError(f"{self.name} does not map stream {stream!r}")
        return mapper(payload)

    def complete(self, stream: str, items: list[Any]) -> list[Any]:
        """Webhook payloads with what the vendor leaves out of them and the mapping needs.

        Called when a webhook's work is processed (in the task, not while answering the
        webhook). By default the payloads as they are.
        """
        return items

    # -- the store counter's state, written back (optional) ----------------------------
    # The counter states (orders.PickupPush.State values) this system takes; empty: it takes none.
    pickup_states: ClassVar[frozenset[str]] = frozenset()

    def push_pickup(self, *, external_id: str, state: str, lines: list[CollectedLine]) -> Any:
        """Write the counter's ``state`` to the order ``external_id`` of this system; idempotent.

        ``lines`` are what the customer took (``collected``; a partial collection names
        fewer than the order has). Raises ``TransportError`` when the system does not
        accept it now and ``ValueError`` when it never will (no such pickup upstream).
        """
        raise NotImplementedError(f"{self.name} takes no pickup state")

    # -- webhooks (optional) ---------------------------------------------------------
    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], url: str) -> WebhookEvent:
        """Verify a webhook's signature on the raw body and return the event.

        Raises :class:`WebhookSignatureError` on a bad signature, ``ValueError`` on a
        body that cannot be used.
        """
        raise NotImplementedError(f"{self.name} does not receive webhooks")

    def webhook_key(self, credential: str) -> str:
        """The credential that verifies webhook signatures; without it every webhook is refused."""
        key = self.credentials.get(credential)
        if not key:
            raise WebhookSignatureError(f"this source has no {credential} credential to verify with")
        return key
