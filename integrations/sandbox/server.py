"""The sandbox over real HTTP: five vendor APIs, injected faults and control endpoints.

One ``ThreadingHTTPServer`` serves every vendor under its own path prefix (see
docs/sandbox-conventions.md) plus ``/_sandbox/`` for tests and the demo. Faults are
drawn from a seeded generator *before* a vendor request is answered, so a faulted
request computes nothing and changes nothing.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import hmac
import json
import logging
import math
import random
import socket
import struct
import sys
import threading
import time
import unicodedata
import uuid
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .catalog import SHOP_DOMAIN
from .formats import Request, Response, dumps, easypost, hubspot, odoo, reply, shopify, square
from .model import iso_z
from .world import World

logger = logging.getLogger(__name__)

VENDORS = {
    "shopify": shopify,
    "square": square,
    "odoo": odoo,
    "hubspot": hubspot,
    "easypost": easypost,
}
BASE_PATHS = {
    "shopify": "/shopify/admin/api/2025-07",
    "square": "/square",
    "odoo": "/odoo",
    "hubspot": "/hubspot",
    "easypost": "/easypost",
}
FAULT_KINDS = ("500", "503", "429", "timeout", "reset")
SHOPIFY_WEBHOOK_SECRET = "shopify_webhook_secret"  # noqa: S105 (published sandbox secret)
EASYPOST_WEBHOOK_SECRET = "easypost_webhook_secret"  # noqa: S105 (published sandbox secret)
FAULT_BODIES = {
    500: {"errors": "Internal Server Error"},
    503: {"errors": "Service Unavailable: the sandbox is pretending to be down"},
    429: {"errors": "Exceeded call limit: reduce request rates to resume uninterrupted service"},
}


class Faults:
    """A seeded share of vendor requests that fail; ``rate`` 0 turns it off."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.configure(rate=0.0)

    def configure(
        self,
        rate: float = 0.0,
        kinds=FAULT_KINDS,
        seed: int = 1,
        retry_after: float = 1,
        timeout_seconds: float = 3,
    ) -> dict:
        kinds = [str(k) for k in kinds]
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"fault kinds must be among {', '.join(FAULT_KINDS)}")
        if not 0 <= float(rate) <= 1:
            raise ValueError("rate must be between 0 and 1")
        with self.lock:
            self.rate, self.kinds, self.seed = float(rate), kinds, int(seed)
            self.retry_after, self.timeout_seconds = retry_after, float(timeout_seconds)
            self.rng = random.Random(self.seed)
            self.counts = {"requests": 0, **dict.fromkeys(FAULT_KINDS, 0)}
            return self.settings()

    def settings(self) -> dict:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "seed": self.seed,
            "retry_after": self.retry_after,
            "timeout_seconds": self.timeout_seconds,
        }

    def draw(self) -> str | None:
        with self.lock:
            self.counts["requests"] += 1
            if self.rate <= 0 or self.rng.random() >= self.rate:
                return None
            kind = self.kinds[int(self.rng.random() * len(self.kinds))]
            self.counts[kind] += 1
            return kind


class CallLimit:
    """Shopify's leaky bucket of 40 calls, reported in ``X-Shopify-Shop-Api-Call-Limit``.

    It is reported, never enforced. The default refill (100,000 calls/s, as the GraphQL
    bucket's) keeps one paging client, even one asking each order's ``transactions.json``,
    far from the top, so adapters that back off at 80% are not slowed down in tests and
    benchmarks; ``leak_rate=2`` rehearses the standard plan's 2 calls/s. (At 1,000 calls/s a
    client on a fast machine, under a millisecond a request, filled it to 32 and then slept
    6 s as the standard plan requires: the REST storefront's bench rate measured that sleep.)
    """

    SIZE = 40

    def __init__(self, leak_rate: float = 100_000.0):
        self.lock = threading.Lock()
        self.leak_rate = leak_rate
        self.level, self.stamp = 0.0, time.monotonic()

    def take(self) -> str:
        with self.lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - self.leak_rate * (now - self.stamp)) + 1
            self.stamp = now
            return f"{min(self.SIZE, math.ceil(self.level))}/{self.SIZE}"


class ReadAhead:
    """Render the next page while the client digests this one.

    A paging client asks for page k+1 right after page k; rendering it meanwhile takes
    the sandbox off the sync's critical path. It is the same answer: keyed on the
    request, the clock and the world's revision, and dropped when any of them moved.
    """

    def __init__(self, size: int = 8):
        self.lock = threading.Lock()
        self.pending: OrderedDict[tuple, Future] = OrderedDict()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-read-ahead")
        self.size = size
        self.hits = 0

    def take(self, key: tuple) -> Response | None:
        with self.lock:
            future = self.pending.pop(key, None)
        response = future.result() if future is not None and not future.cancelled() else None
        if response is not None:
            self.hits += 1
        return response

    def schedule(self, key: tuple, compute) -> None:
        with self.lock:
            if key in self.pending:
                return
            self.pending[key] = self.pool.submit(compute)
            while len(self.pending) > self.size:
                self.pending.popitem(last=False)[1].cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (a streamed download read only in part) is no server error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OmniDeskSandbox/1.0"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK stall each response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the stdlib's signature)
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sandbox = self.server.sandbox
        parts = urlsplit(self.path)
        try:
            if parts.path.startswith("/_sandbox/"):
                response = sandbox.control(self.command, parts.path[len("/_sandbox/") :].strip("/"), body)
            else:
                response = self._vendor(sandbox, parts, body)
        except Exception:
            logger.exception("sandbox failed on %s %s", self.command, parts.path)
            response = reply({"error": "the sandbox failed; see its log"}, 500)
        if response is not None:
            self._send(response)

    def _vendor(self, sandbox: SandboxServer, parts, body: bytes) -> Response | None:
        vendor = parts.path.split("/", 2)[1] if parts.path.count("/") >= 2 else ""
        module = VENDORS.get(vendor)
        if module is None:
            return reply({"error": f"no vendor at {parts.path}"}, 404)
        fault = sandbox.faults.draw()
        if fault == "reset":
            self._reset()
            return None
        if fault == "timeout":
            time.sleep(sandbox.faults.timeout_seconds)
        elif fault is not None:
            status = int(fault)
            headers = [("Retry-After", str(sandbox.faults.retry_after))] if status == 429 else []
            return reply(FAULT_BODIES[status], status, headers)
        request = Request(
            method=self.command,
            path=parts.path[len(vendor) + 1 :],
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            origin=f"http://{self.headers.get('Host') or sandbox.host_port}",
            prefix=f"/{vendor}",
        )
        response = sandbox.answer(module, request)
        if vendor == "shopify":
            response.headers.append(("X-Shopify-Shop-Api-Call-Limit", sandbox.call_limit.take()))
        return response

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP reset and no response at all."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the connection was reset on purpose
            super().finish()


class SandboxServer:
    """Serve a :class:`World` over HTTP in the five vendors' formats.

    >>> with SandboxServer(World(orders=200)) as server:
    ...     server.url("shopify")  # http://127.0.0.1:PORT/shopify/admin/api/2025-07
    """

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, read_ahead: bool = True):
        self.world = world
        self.host, self.port = host, port
        self.faults = Faults()
        self.call_limit = CallLimit()
        self.read_ahead = ReadAhead() if read_ahead else None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> str:
        if self._httpd is not None:
            return self.base_url
        self._httpd = _HTTPServer((self.host, self.port), _Handler)
        self._httpd.sandbox = self
        self.port = self._httpd.server_address[1]
        # the world is long-lived and large: keep the cyclic GC from rescanning it
        gc.freeze()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="omnidesk-sandbox", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = self._thread = None
        if self.read_ahead is not None:
            self.read_ahead.close()
            self.read_ahead = ReadAhead()
        gc.unfreeze()

    def answer(self, module, request: Request) -> Response:
        """A vendor module's answer, from the read-ahead when it already has it."""
        world = self.world
        key = (request.key(), world.now, world.revision)
        response = self.read_ahead.take(key) if self.read_ahead is not None else None
        if response is None:
            with world.lock:
                response = module.handle(world, request)
        if response.follow is not None and self.read_ahead is not None:
            self._prefetch(module, response.follow)
        return response

    def _prefetch(self, module, request: Request) -> None:
        world = self.world
        state = (world.now, world.revision)

        def compute() -> Response | None:
            try:
                with world.lock:
                    if (world.now, world.revision) != state:
                        return None
                    return module.handle(world, request)
            except Exception:
                logger.exception("sandbox read-ahead failed")
                return None

        self.read_ahead.schedule((request.key(), *state), compute)

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host_port}"

    def url(self, vendor: str) -> str:
        """The base URL a source of ``vendor`` is configured with."""
        return self.base_url + BASE_PATHS[vendor]

    def urls(self) -> dict[str, str]:
        return {vendor: self.url(vendor) for vendor in BASE_PATHS}

    def fault_count(self) -> int:
        """Faults injected since the faults were last configured."""
        return sum(n for kind, n in self.faults.counts.items() if kind != "requests")

    def set_call_limit(self, leak_rate: float) -> dict:
        """How fast Shopify's call bucket drains, in calls per second (2 = standard plan)."""
        if float(leak_rate) <= 0:
            raise ValueError("leak_rate must be positive")
        with self.call_limit.lock:
            self.call_limit.leak_rate = float(leak_rate)
            self.call_limit.level = 0.0
        return {"leak_rate": self.call_limit.leak_rate, "size": CallLimit.SIZE}

    def set_faults(self, **settings) -> dict:
        """``rate``, ``kinds``, ``seed``, ``retry_after``, ``timeout_seconds`` (see :class:`Faults`)."""
        return self.faults.configure(**settings)

    # --- control endpoints ------------------------------------------------------------
    def control(self, method: str, name: str, body: bytes) -> Response:
        try:
            data = json.loads(body) if body.strip() else {}
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            return self._control(method, name, data)
        except (ValueError, TypeError, KeyError) as exc:
            return reply({"error": str(exc)}, 400)

    def _control(self, method: str, name: str, data: dict) -> Response:
        world = self.world
        if name == "health" and method == "GET":
            return reply({
                "status": "ok", "now": iso_z(world.now), "seed": world.seed, "orders": world.size,
                "realtime": world.following_wall_clock, "urls": self.urls(),
                "faults": self.faults.settings(), "fault_counts": dict(self.faults.counts),
            })  # fmt: skip
        if name == "truth" and method == "GET":
            return Response(200, dumps(world.truth()))
        if name == "clock":
            if method == "POST":
                if "now" in data:
                    world.set_now(str(data["now"]))
                elif "advance_seconds" in data:
                    world.advance(float(data["advance_seconds"]))
                else:
                    raise ValueError("give advance_seconds or now")
            return reply({"now": iso_z(world.now)})
        if name == "faults":
            if method == "POST":
                return reply(self.set_faults(**data))
            return reply({**self.faults.settings(), "counts": dict(self.faults.counts)})
        if name == "graphql-cost" and method == "POST":
            return reply(
                world.shopify_cost.configure(
                    maximum=data.get("maximum"), restore_rate=data.get("restore_rate"), rules=data.get("rules")
                )
            )
        if name == "call-limit" and method == "POST":
            return reply(self.set_call_limit(data["leak_rate"]))
        if name == "corrupt" and method == "POST":
            world.corrupt(data["vendor"], data["stream"], str(data["external_id"]), data["how"])
            return reply(
                {
                    "corrupted": [
                        data["vendor"],
                        data["stream"],
                        str(data["external_id"]),
                        data["how"],
                    ]
                }
            )
        if name == "repair" and method == "POST":
            if data.get("all"):
                return reply({"repaired": world.repair_all()})
            return reply({"repaired": int(world.repair(data["vendor"], data["stream"], str(data["external_id"])))})
        if name == "webhooks" and method == "POST":
            return reply(
                {"webhooks": self.webhooks_sample(str(data["vendor"]), int(data["count"]), int(data.get("seed", 0)))}
            )
        return reply({"error": f"no control endpoint {method} /_sandbox/{name}"}, 404)

    # --- webhooks (built, not sent) -----------------------------------------------------
    def webhooks_sample(self, vendor: str, count: int, seed: int = 0) -> list[dict]:
        """``count`` webhooks of ``vendor`` (``shopify``: orders/updated; ``easypost``: tracker.updated), each for
        an order or tracker picked at random among those that exist at this clock: ``[{body, headers}]``.

        ``POST /_sandbox/webhooks`` serves it to a process that does not hold the world (``make bench``).
        """
        builders = {"shopify": ("orders", self.shopify_webhook), "easypost": ("trackers", self.easypost_webhook)}
        if vendor not in builders:
            raise ValueError(f"webhooks are built for {', '.join(builders)}, not {vendor!r}")
        stream_name, build = builders[vendor]
        with self.world.lock:
            stream = self.world.stream(vendor, stream_name)
            now = self.world.now
            alive = [stream.externals[i] for i in range(len(stream)) if stream.exists(i, now)]
        picked = random.Random(seed).sample(alive, k=min(count, len(alive)))  # noqa: S311 (test data)
        return [{"body": body.decode(), "headers": headers} for body, headers in map(build, picked)]

    def shopify_webhook(self, order_id, topic: str = "orders/updated") -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Shopify would POST for ``order_id`` at this clock."""
        world = self.world
        with world.lock:
            o = world.web_order(order_id)
            stream = world.stream("shopify", "orders")
            now = world.now
            body = dumps(shopify.render_order(world, o, now, stream.updated_at(stream.find(str(o.shopify_id)), now)))
        digest = base64.b64encode(hmac.new(SHOPIFY_WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()).decode()
        stamp = f"{o.shopify_id}:{topic}:{now}"
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": digest,
            "X-Shopify-Shop-Domain": SHOP_DOMAIN,
            "X-Shopify-API-Version": "2025-07",
            "X-Shopify-Webhook-Id": str(uuid.uuid5(uuid.NAMESPACE_URL, "webhook:" + stamp)),
            "X-Shopify-Event-Id": str(uuid.uuid5(uuid.NAMESPACE_URL, "event:" + stamp)),
            "X-Shopify-Triggered-At": iso_z(now),
        }
        return body, headers

    def easypost_webhook(self, tracker_id: str) -> tuple[bytes, dict[str, str]]:
        """A ``tracker.updated`` Event for ``tracker_id`` at this clock, signed like EasyPost."""
        world = self.world
        with world.lock:
            stream = world.stream("easypost", "trackers")
            i = stream.find(tracker_id)
            if i is None or not stream.exists(i, world.now):
                raise KeyError(f"no tracker {tracker_id!r} at this clock")
            now = world.now
            tracker = easypost.render(world, stream, i, stream.updated_at(i, now))
        event_id = "evt_" + hashlib.sha256(f"{tracker_id}:{now}".encode()).hexdigest()[:32]
        event = {
            "object": "Event", "id": event_id, "mode": "test", "description": "tracker.updated",
            "previous_attributes": {}, "created_at": iso_z(now), "updated_at": iso_z(now), "result": tracker,
            "status": "pending", "pending_urls": [], "completed_urls": [], "user_id": "user_omnidesk_sandbox",
        }  # fmt: skip
        body = dumps(event)
        secret = unicodedata.normalize("NFKD", EASYPOST_WEBHOOK_SECRET).encode()
        signature = "hmac-sha256-hex=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "X-Hmac-Signature": signature}
