"""HubSpot CRM v3: contacts by last modification, and contact webhooks (v1, v2, v3 signatures).

Cursor of the ``contacts`` stream (committed with each page)::

    {"start_at": ISO, "after": offset, "watermark": ISO}

* ``start_at`` — this run's lower bound on ``lastmodifieddate``, sent as a ``GTE``
  filter in epoch milliseconds (absent on the first ever run: no filter at all).
* ``after`` — present only mid-run: ``paging.next.after`` of the last answer.
* ``watermark`` — the greatest modification time seen so far in this run, in UTC.

Results are sorted by ``lastmodifieddate`` ascending. When an answer has no next page
the cursor becomes ``{"start_at": watermark}``; the bound is inclusive, so the next
run reads the boundary contact again (upserts are idempotent).

HubSpot's search serves at most 10,000 results per query (``after`` + ``limit`` must
stay within it). When the next ``after`` would pass :data:`MAX_AFTER` the run does not
follow it but starts a new query from the current watermark (``{"start_at":
watermark}``, more to come). Should 10,000 contacts share one millisecond, the
watermark cannot move and the adapter stops with a permanent error rather than loop.

Rate limit: search allows 4 requests a second. When an answer says none are left
(``X-HubSpot-RateLimit-Remaining: 0``, waiting ``-Interval-Milliseconds``, or
``X-HubSpot-RateLimit-Secondly-Remaining: 0``, waiting a second) the adapter sleeps
(``self.client.sleep``, injectable) before the next request; a 429 is retried by the
HTTP seam.

Mapping: ``name`` is first + last name, ``emails`` the ``email``, ``phones`` the
non-empty ``phone`` and ``mobilephone`` as HubSpot wrote them, ``loyalty_id`` the
retailer's custom ``loyalty_id`` contact property, ``updated_at`` the ``updatedAt``
(else ``properties.lastmodifieddate``), ISO-8601 or an epoch-milliseconds string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from ..http import TransportError, utc_now
from ..records import CustomerRecord, MappingError
from .base import Adapter, Page, WebhookEvent, WebhookSignatureError
from .fields import header_reader, ident, json_object, latest_time, text, webhook_json

SEARCH_PATH = "crm/v3/objects/contacts/search"
CONTACT_PATH = "crm/v3/objects/contacts/{id}"
MAX_PAGE_SIZE = 100
MAX_AFTER = 10_000 - MAX_PAGE_SIZE  # the search serves results 0..9,999 of a query
PROPERTIES = [
    "email", "phone", "mobilephone", "firstname", "lastname", "lastmodifieddate",
    "hs_object_id", "loyalty_id",
]  # fmt: skip
MAX_SIGNATURE_AGE = timedelta(seconds=300)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
# v3 signs the URI with these characters decoded (HubSpot "Validate requests" docs).
URI_DECODE = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
GONE_SUBSCRIPTIONS = frozenset({"contact.deletion", "contact.privacyDeletion"})
CONTACT_OBJECT_TYPE = "0-1"  # objectTypeId of contacts in the generic object.* subscriptions


# -- mapping -----------------------------------------------------------------------------------
def map_contact(payload: Any) -> CustomerRecord:
    contact = json_object(payload, "contact")
    properties = json_object(contact.get("properties"), "contact.properties")
    external_id = ident(contact, "id", "contact")

    def prop(name: str) -> str:
        return text(properties, name, "contact.properties")

    email = prop("email")
    phones = [p for p in dict.fromkeys((prop("phone"), prop("mobilephone"))) if p]
    updated_at = parse_time(contact.get("updatedAt"), "contact.updatedAt")
    return CustomerRecord(
        external_id=external_id,
        name=" ".join(p for p in (prop("firstname"), prop("lastname")) if p),
        emails=[email] if email else [],
        phones=phones,
        loyalty_id=prop("loyalty_id"),
        updated_at=updated_at or parse_time(properties.get("lastmodifieddate"), "contact.properties.lastmodifieddate"),
    )


def parse_time(value: Any, field: str) -> datetime | None:
    """HubSpot times: ISO-8601 (``…Z``) or epoch milliseconds (a digit string or a number), as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise MappingError(f"{field} must be an ISO-8601 or epoch-ms string, got {type(value).__name__}")  # fmt: skip
    stamp = value.strip()
    if stamp.isdigit():
        return EPOCH + int(stamp) * MILLISECOND
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        raise MappingError(f"{field} is not an ISO-8601 date-time or epoch ms: {value!r}") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{field} has no UTC offset: {value!r}")
    return parsed.astimezone(UTC)


class HubSpotAdapter(Adapter):
    name = "hubspot"
    allowed_hosts = ("api.hubapi.com",)
    kind = "crm"
    streams = ("contacts",)
    required_credentials = ("access_token",)
    optional_credentials = ("client_secret",)
    mappers = {"contacts": map_contact}
    clock = staticmethod(utc_now)  # for the webhook timestamp check; tests replace it

    def auth_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credentials['access_token']}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    # -- fetching ----------------------------------------------------------------------
    def fetch(self, stream: str, cursor: Mapping[str, Any]) -> Page:
        if stream != "contacts":
            raise ValueError(f"hubspot has no stream {stream!r}; streams: contacts")
        start_at = cursor.get("start_at") or ""
        request: dict[str, Any] = {
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": PROPERTIES,
            "limit": max(1, min(self.page_size, MAX_PAGE_SIZE)),
        }
        if start_at:
            since = str(_epoch_ms(datetime.fromisoformat(start_at)))
            request["filterGroups"] = [
                {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": since}]}
            ]  # fmt: skip
        if cursor.get("after"):
            request["after"] = cursor["after"]
        response = self.client.post(SEARCH_PATH, json=request)
        self._throttle(response)
        items, after = _results(response)

        seen = [_modified(item) for item in items]
        watermark = latest_time(cursor.get("watermark"), start_at, *seen, parse=parse_time)
        if not after:
            return Page.final(items, start_at=watermark)
        if after.isdigit() and int(after) > MAX_AFTER:
            if not watermark or (start_at and latest_time(start_at, parse=parse_time) == watermark):
                raise TransportError(
                    f"more than {MAX_AFTER + MAX_PAGE_SIZE} contacts share lastmodifieddate "
                    f"{watermark or 'unset'}: the search cannot page past them",
                    permanent=True,
                    status=response.status_code,
                )
            return Page.more(items, start_at=watermark)
        return Page.more(items, start_at=start_at, after=after, watermark=watermark)

    def _throttle(self, response: requests.Response) -> None:
        """Sleep out the rate-limit window when the answer says no request is left in it."""
        headers = response.headers
        waits = [0.0]
        if _int(headers.get("X-HubSpot-RateLimit-Remaining")) == 0:
            interval = _int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
            waits.append(interval / 1000 if interval else 1.0)
        if _int(headers.get("X-HubSpot-RateLimit-Secondly-Remaining")) == 0:
            waits.append(1.0)
        if max(waits) > 0:
            self.client.sleep(max(waits))

    # -- webhooks ----------------------------------------------------------------------
    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], url: str) -> WebhookEvent:
        """Verify the signature, then return the first contact event of the delivered array.

        The event names only the contact (``objectId``) and one changed property, so the
        payload is the whole contact re-fetched with ``GET /crm/v3/objects/contacts/{id}``.
        HubSpot POSTs webhooks, so the signed method is POST.
        """
        verify_signature(
            secret=self.credentials.get("client_secret", ""),
            method="POST",
            url=url,
            body=body,
            headers=headers,
            now=self.clock(),
        )
        events = webhook_json(body, list)
        event = next((e for e in events if _is_contact_event(e)), None)
        if event is None:
            raise ValueError("webhook body has no contact event (creation, change, merge…)")
        object_id, event_id = event.get("objectId"), event.get("eventId")
        if isinstance(object_id, bool) or not isinstance(object_id, int | str) or not object_id:
            raise ValueError(f"contact event has no objectId: {object_id!r}")
        if event_id is None or isinstance(event_id, bool):
            raise ValueError("contact event has no eventId")
        try:
            response = self.client.get(CONTACT_PATH.format(id=object_id), params={"properties": ",".join(PROPERTIES)})
        except TransportError as exc:
            if exc.status == 404:
                raise ValueError(f"contact {object_id} no longer exists") from None
            raise
        contact = response.json()
        extra = {
            name: str(event[key])
            for name, key in (("portal_id", "portalId"), ("occurred_at", "occurredAt"))
            if event.get(key) is not None
        }
        return WebhookEvent(
            event_id=str(event_id),
            topic=str(event.get("subscriptionType")),
            stream="contacts",
            payload=contact,
            extra=extra,
        )


# -- signatures ------------------------------------------------------------------------------
def signature(version: str, *, secret: str, method: str, uri: str, body: bytes, timestamp: str = "") -> str:
    """The signature HubSpot sends for a request: v1/v2 SHA-256 hex, v3 base64 HMAC-SHA256."""
    if version == "v1":
        return hashlib.sha256(secret.encode() + body).hexdigest()
    if version == "v2":
        return hashlib.sha256(secret.encode() + method.encode() + uri.encode() + body).hexdigest()
    if version == "v3":
        for encoded, char in URI_DECODE.items():
            uri = uri.replace(encoded, char).replace(encoded.lower(), char)
        message = method.encode() + uri.encode() + body + timestamp.encode()
        return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    raise WebhookSignatureError(f"unsupported signature version {version!r}")


def verify_signature(
    *, secret: str, method: str, url: str, body: bytes, headers: Mapping[str, str], now: datetime
) -> None:
    """Raise :class:`WebhookSignatureError` unless the request carries a valid, fresh signature.

    ``X-HubSpot-Signature-v3`` is preferred; it must come with an
    ``X-HubSpot-Request-Timestamp`` (epoch ms) no older than 300 s. Otherwise
    ``X-HubSpot-Signature`` with ``X-HubSpot-Signature-Version`` v1 (the default) or v2.
    """
    if not secret:
        raise WebhookSignatureError("this source has no client_secret credential to verify with")
    header = header_reader(headers)
    given, timestamp = header("x-hubspot-signature-v3"), ""
    if given:
        version, timestamp = "v3", header("x-hubspot-request-timestamp")
        if not timestamp.isdigit():
            raise WebhookSignatureError("missing or unreadable X-HubSpot-Request-Timestamp header")
        sent = EPOCH + int(timestamp) * MILLISECOND
        if now - sent > MAX_SIGNATURE_AGE:
            raise WebhookSignatureError(f"X-HubSpot-Request-Timestamp {sent.isoformat()} is older than 300 s")
    else:
        given = header("x-hubspot-signature")
        if not given:
            raise WebhookSignatureError("missing X-HubSpot-Signature-v3 and X-HubSpot-Signature headers")
        version = header("x-hubspot-signature-version", "v1").lower()
    expected = signature(version, secret=secret, method=method, uri=url, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookSignatureError(f"X-HubSpot signature ({version}) does not match the request")


def _is_contact_event(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    kind = str(event.get("subscriptionType") or "")
    if kind in GONE_SUBSCRIPTIONS or kind == "object.deletion":
        return False
    if kind.startswith("contact."):
        return True
    return kind.startswith("object.") and str(event.get("objectTypeId")) == CONTACT_OBJECT_TYPE


# -- helpers -----------------------------------------------------------------------------------
def _results(response: requests.Response) -> tuple[list[Any], str]:
    try:
        body = response.json()
    except ValueError:
        body = None
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise TransportError(
            f"POST {SEARCH_PATH} answered without a 'results' list",
            permanent=False,
            status=response.status_code,
        )
    paging = body.get("paging")
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return results, str(after) if after not in (None, "") else ""


def _modified(item: Any) -> Any:
    if not isinstance(item, dict):
        return None
    properties = item.get("properties")
    fallback = properties.get("lastmodifieddate") if isinstance(properties, dict) else None
    return item.get("updatedAt") or fallback


def _epoch_ms(moment: datetime) -> int:
    return (moment - EPOCH) // MILLISECOND


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


__all__ = ["HubSpotAdapter", "map_contact", "signature", "verify_signature"]
