"""EasyPost v2 trackers: ``GET /v2/trackers`` and ``tracker.updated`` webhooks.

Authentication is HTTP basic with the API key as the user and an empty password.

Cursor of the ``trackers`` stream (committed with each page)::

    {"updated_at_min": ISO, "before_id": "trk_…", "watermark": ISO}

* ``updated_at_min`` — the filter of this run (absent on the first ever run). EasyPost
  documents only creation-time filters (``start_datetime``); ``updated_at_min`` is the
  incremental filter the sandbox serves, and in production ``tracker.updated`` webhooks
  carry the changes as they happen.
* ``before_id`` — mid-run only. EasyPost lists newest first; the id of a page's last
  (oldest) tracker fetches the next, older page.
* ``watermark`` — the greatest ``updated_at`` seen so far in this run.

When ``has_more`` is false the run is over and the cursor becomes
``{"updated_at_min": watermark}``. The filter is inclusive, so the next run reads the
boundary tracker again; upserts are idempotent.

Status (:data:`TRACKER_STATUS`): EasyPost's ``status`` -> the shipment lifecycle;
``raw_status`` keeps ``status/status_detail`` for the rules and the agent.

=====================  ==================  ==========================================
EasyPost status        lifecycle           why
=====================  ==================  ==========================================
unknown, pre_transit   handed_to_carrier   label exists; the earliest carrier state
in_transit             in_transit
out_for_delivery       out_for_delivery
delivered              delivered           ``delivered_at`` from the delivered scan
available_for_pickup   in_transit          at a carrier access point, not yet with the
                                           customer; ``ready_for_pickup`` means the
                                           retailer's own pickup counter
return_to_sender,      in_transit          still moving (or stuck) in the carrier's
failure, error                             hands; the lifecycle has no "exception" —
                                           the ``delivery_exception`` rule reads
                                           ``raw_status``
cancelled              cancelled           a voided label: a dead shipment, as Shopify
                                           mapping treats them, so it never counts as
                                           a second active shipment
(any other)            handed_to_carrier   EasyPost adds values; raw_status keeps it
=====================  ==================  ==========================================
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..http import TransportError
from ..records import MappingError, ShipmentRecord, TrackerRecord, TrackingEventRecord
from .base import Adapter, Page, WebhookEvent, WebhookSignatureError
from .fields import header_reader, json_list, json_object, latest_time, parse_time, text, web_url, webhook_json

MAX_PAGE_SIZE = 100
SIGNATURE_HEADER = "x-hmac-signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
WEBHOOK_DESCRIPTIONS = frozenset({"tracker.created", "tracker.updated"})

TRACKER_STATUS = {
    "unknown": "handed_to_carrier",
    "pre_transit": "handed_to_carrier",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "available_for_pickup": "in_transit",
    "return_to_sender": "in_transit",
    "failure": "in_transit",
    "error": "in_transit",
    "cancelled": "cancelled",
}
NOT_YET_MOVING = frozenset({"", "unknown", "pre_transit"})


# -- mapping (pure) ----------------------------------------------------------------------
def map_tracker(payload: Any) -> TrackerRecord:
    where = "tracker"
    tracker = json_object(payload, where)
    tracker_id = text(tracker, "id", where)
    if not tracker_id:
        raise MappingError(f"{where}.id is missing")
    status = text(tracker, "status", where)
    detail = text(tracker, "status_detail", where)
    details = json_list(tracker, "tracking_details", where)
    events = [_event(d, f"{where}.tracking_details[{i}]") for i, d in enumerate(details)]
    updated_at = parse_time(tracker.get("updated_at"), f"{where}.updated_at")
    delivered = [event.occurred_at for event in events if event.status == "delivered"]
    moving = [event.occurred_at for event in events if event.status not in NOT_YET_MOVING]
    lifecycle = TRACKER_STATUS.get(status, "handed_to_carrier")
    return TrackerRecord(
        external_id=tracker_id,
        updated_at=updated_at,
        shipment=ShipmentRecord(
            external_id=tracker_id,
            carrier=text(tracker, "carrier", where),
            tracking_number=text(tracker, "tracking_code", where),
            tracking_url=web_url(tracker, "public_url", where),
            raw_status=f"{status}/{detail}" if detail else status,
            status=lifecycle,
            shipped_at=min(moving) if moving else None,
            estimated_delivery=parse_time(tracker.get("est_delivery_date"), f"{where}.est_delivery_date"),
            delivered_at=(max(delivered) if delivered else updated_at) if lifecycle == "delivered" else None,
            events=events,
        ),
    )


def _event(payload: Any, where: str) -> TrackingEventRecord:
    """One ``TrackingDetail``; its place reads "City, ST ZIP, Country" from the non-empty parts."""
    detail = json_object(payload, where)
    occurred_at = parse_time(detail.get("datetime"), f"{where}.datetime", required=True)
    place = detail.get("tracking_location")
    location = ""
    if place is not None:
        place = json_object(place, f"{where}.tracking_location")
        lw = f"{where}.tracking_location"
        region = " ".join(p for p in (text(place, "state", lw), text(place, "zip", lw)) if p)
        parts = (text(place, "city", lw), region, text(place, "country", lw))
        location = ", ".join(p for p in parts if p)
    return TrackingEventRecord(
        occurred_at=occurred_at,
        status=text(detail, "status", where),
        message=text(detail, "message", where) or text(detail, "description", where),
        location=location,
    )


class EasyPostAdapter(Adapter):
    name = "easypost"
    allowed_hosts = ("api.easypost.com",)
    kind = "carrier"
    streams = ("trackers",)
    required_credentials = ("api_key",)
    optional_credentials = ("webhook_secret",)
    mappers = {"trackers": map_tracker}

    def auth_headers(self) -> dict[str, str]:
        user_pass = f"{self.credentials['api_key']}:".encode()
        return {
            "Authorization": "Basic " + base64.b64encode(user_pass).decode(),
            "Accept": "application/json",
        }

    # -- fetching ----------------------------------------------------------------------
    def fetch(self, stream: str, cursor: Mapping[str, Any]) -> Page:
        if stream != "trackers":
            raise ValueError(f"easypost has no stream {stream!r}; streams: trackers")
        updated_at_min = cursor.get("updated_at_min")
        params: dict[str, Any] = {"page_size": max(1, min(self.page_size, MAX_PAGE_SIZE))}
        if updated_at_min:
            params["updated_at_min"] = updated_at_min
        if cursor.get("before_id"):
            params["before_id"] = cursor["before_id"]
        trackers, has_more = self._list(params)

        seen = [t.get("updated_at") for t in trackers if isinstance(t, dict)]
        watermark = latest_time(cursor.get("watermark"), updated_at_min, *seen, render=_iso_z)
        ids = (self.external_id(stream, tracker) for tracker in reversed(trackers))
        oldest = next((tracker_id for tracker_id in ids if tracker_id), "")
        if not has_more or not trackers:
            return Page.final(trackers, updated_at_min=watermark)
        if not oldest:
            raise TransportError(
                "GET /v2/trackers: a page with has_more but no tracker id to page on",
                permanent=True,
            )
        return Page.more(trackers, updated_at_min=updated_at_min, before_id=oldest, watermark=watermark)

    def _list(self, params: dict[str, Any]) -> tuple[list[Any], bool]:
        response = self.client.get("v2/trackers", params=params)
        try:
            body = response.json()
        except ValueError:
            raise TransportError(
                "GET /v2/trackers answered a body that is not JSON",
                permanent=False,
                status=response.status_code,
            ) from None
        trackers = body.get("trackers") if isinstance(body, dict) else None
        has_more = body.get("has_more") if isinstance(body, dict) else None
        if not isinstance(trackers, list) or not isinstance(has_more, bool):
            raise TransportError(
                "GET /v2/trackers answered JSON without a 'trackers' list and 'has_more'",
                permanent=False,
                status=response.status_code,
            )
        return trackers, has_more

    # -- mapping -----------------------------------------------------------------------
    def external_id(self, stream: str, payload: Any) -> str:
        """EasyPost ids are strings (``trk_…``); anything else is no id."""
        value = payload.get("id") if isinstance(payload, dict) else None
        return value.strip() if isinstance(value, str) else ""

    # -- webhooks ----------------------------------------------------------------------
    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], url: str) -> WebhookEvent:
        """Verify ``X-Hmac-Signature`` on the raw body, then unwrap the Event's Tracker.

        The key is the NFKD-normalised secret, as EasyPost's client libraries compute it.
        """
        secret = self.webhook_key("webhook_secret")
        signature = header_reader(headers)(SIGNATURE_HEADER)
        if not signature:
            raise WebhookSignatureError("missing X-Hmac-Signature header")
        key = unicodedata.normalize("NFKD", secret).encode()
        expected = SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise WebhookSignatureError("X-Hmac-Signature does not match the body")

        event = webhook_json(body)
        description = event.get("description")
        if description not in WEBHOOK_DESCRIPTIONS:
            raise ValueError(
                f"unsupported event {description!r}; expected one of {', '.join(sorted(WEBHOOK_DESCRIPTIONS))}"
            )
        event_id = event.get("id")
        if not isinstance(event_id, str) or not event_id.strip():
            raise ValueError("webhook event has no id")
        result = event.get("result")
        if not isinstance(result, dict):
            raise ValueError("webhook event has no result object")
        extra = {name: event[name] for name in ("mode", "created_at") if event.get(name)}
        return WebhookEvent(
            event_id=event_id.strip(),
            topic=description,
            stream="trackers",
            payload=result,
            extra=extra,
        )


def _iso_z(moment: datetime) -> str:
    """A watermark as EasyPost writes times (``2024-08-02T19:26:51Z``, whole seconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["EasyPostAdapter", "map_tracker"]
