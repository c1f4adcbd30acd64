"""EasyPostAdapter: mapping and webhooks against EasyPost's own samples, fetching at the HTTP seam.

No database: the adapter is pure apart from HTTP, which ``responses`` mocks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import unicodedata

import pytest
import responses
from django.http.request import HttpHeaders
from responses import matchers

from integrations.adapters.base import WebhookSignatureError
from integrations.adapters.easypost import EasyPostAdapter, map_tracker
from integrations.http import TransportError
from integrations.records import MappingError, ShipmentRecord, TrackerRecord, TrackingEventRecord
from tests.vendor_fixtures import load, path

from .helpers import make_adapter, mock_answer, utc

BASE = "https://api.easypost.example"
API_KEY = "EZTK_test"


def created_tracker() -> dict:
    return load("carriers", "easypost_tracker_create_response")


def event_tracker() -> dict:
    return load("carriers", "easypost_webhook_event_tracker_updated")["result"]


@pytest.fixture
def vector() -> dict:
    return load("carriers", "easypost_webhook_signature_test_vector")


@pytest.fixture
def signed_body(vector) -> bytes:
    """The event body exactly as EasyPost signed it: the file without its trailing newline."""
    raw = path("carriers", vector["body_file"].split()[0]).read_bytes()
    assert raw.endswith(b"\n")
    return raw[:-1]


@pytest.fixture
def adapter(vector) -> EasyPostAdapter:
    return make_adapter(EasyPostAdapter, BASE, api_key=API_KEY, webhook_secret=vector["webhook_secret"])


def sign(secret: str, body: bytes, form: str = "NFKD") -> dict[str, str]:
    """``X-Hmac-Signature`` as EasyPost computes it (keyed with the NFKD form of the secret)."""
    key = unicodedata.normalize(form, secret).encode()
    digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    return {"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}


# -- the adapter's identity ----------------------------------------------------------------
def test_contract_and_basic_auth_with_the_key_as_user():
    assert (EasyPostAdapter.name, EasyPostAdapter.kind) == ("easypost", "carrier")
    assert EasyPostAdapter.streams == ("trackers",)
    assert EasyPostAdapter.required_credentials == ("api_key",)
    assert EasyPostAdapter.optional_credentials == ("webhook_secret",)
    with pytest.raises(ValueError, match="api_key"):
        EasyPostAdapter(base_url=BASE, credentials={})

    adapter = EasyPostAdapter(base_url=BASE, credentials={"api_key": API_KEY})

    assert adapter.client.headers["Authorization"] == "Basic RVpUS190ZXN0Og=="
    assert base64.b64decode("RVpUS190ZXN0Og==") == b"EZTK_test:"


def test_external_id_is_the_tracker_id_or_empty(adapter):
    assert adapter.external_id("trackers", created_tracker()) == "trk_e7e8f143f3eb40d38be9562e3767c36a"
    assert adapter.external_id("trackers", {"id": None}) == ""
    assert adapter.external_id("trackers", {"id": 17}) == ""
    assert adapter.external_id("trackers", ["trk_1"]) == ""


# -- mapping: the two real trackers ----------------------------------------------------------
def test_created_usps_tracker_maps_every_field(adapter):
    record = adapter.map("trackers", created_tracker())

    assert record == TrackerRecord(
        external_id="trk_e7e8f143f3eb40d38be9562e3767c36a",
        updated_at=utc(2025, 3, 6, 19, 48, 26),
        shipment=ShipmentRecord(
            external_id="trk_e7e8f143f3eb40d38be9562e3767c36a",
            carrier="USPS",
            tracking_number="EZ1000000001",
            tracking_url="https://track.easypost.com/djE6dHJrX2U3ZThmMTQzZjNlYjQwZDM4YmU5NTYyZTM3NjdjMzZh",
            raw_status="pre_transit/status_update",
            status="handed_to_carrier",
            shipped_at=None,  # label only: no carrier scan yet
            estimated_delivery=utc(2025, 3, 6, 19, 48, 26),
            delivered_at=None,
            events=[
                TrackingEventRecord(
                    occurred_at=utc(2025, 2, 6, 19, 48, 26),
                    status="pre_transit",
                    message="Pre-Shipment Info Sent to USPS",
                    location="",  # every tracking_location part is null
                ),
                TrackingEventRecord(
                    occurred_at=utc(2025, 2, 7, 8, 25, 26),
                    status="pre_transit",
                    message="Shipping Label Created",
                    location="HOUSTON, TX 77063",
                ),
            ],
        ),
    )


def test_fedex_tracker_from_the_event_is_in_transit_since_its_pickup_scan():
    record = map_tracker(event_tracker())
    shipment = record.shipment

    assert (record.external_id, record.updated_at) == ("trk_1", utc(2024, 8, 2, 19, 26, 51))
    assert (shipment.carrier, shipment.tracking_number, shipment.tracking_url) == (
        "FedEx",
        "1",
        "https://track.easypost.com/1",
    )
    assert (shipment.raw_status, shipment.status) == (
        "in_transit/arrived_at_facility",
        "in_transit",
    )
    assert shipment.shipped_at == utc(2024, 7, 31, 19, 27)
    assert shipment.estimated_delivery == utc(2024, 8, 5)
    assert shipment.delivered_at is None
    assert [(e.occurred_at, e.status, e.message, e.location) for e in shipment.events] == [
        (utc(2024, 7, 31, 15, 0), "pre_transit", "Shipment information sent to FedEx", "32837, US"),
        (utc(2024, 7, 31, 19, 27), "in_transit", "Picked up", "ORLANDO, FL 32809, US"),
        (
            utc(2024, 7, 31, 22, 35),
            "in_transit",
            "Arrived at FedEx location",
            "ORLANDO, FL 32809, US",
        ),
        (
            utc(2024, 8, 1, 14, 42, 13),
            "in_transit",
            "Departed FedEx location",
            "ORLANDO, FL 32809, US",
        ),
        (utc(2024, 8, 2, 2, 46, 19), "in_transit", "On the way", "KENLY, NC 27542, US"),
        (utc(2024, 8, 2, 18, 35, 20), "in_transit", "On the way", "EDISON TWP, NJ 08817, US"),
        (
            utc(2024, 8, 2, 18, 50),
            "in_transit",
            "Arrived at FedEx location",
            "EDISON, NJ 08817, US",
        ),
    ]


@pytest.mark.parametrize(
    ("status", "detail", "raw_status", "lifecycle"),
    [
        ("unknown", None, "unknown", "handed_to_carrier"),
        ("pre_transit", "label_created", "pre_transit/label_created", "handed_to_carrier"),
        ("in_transit", "departed_facility", "in_transit/departed_facility", "in_transit"),
        (
            "out_for_delivery",
            "out_for_delivery",
            "out_for_delivery/out_for_delivery",
            "out_for_delivery",
        ),
        ("available_for_pickup", "", "available_for_pickup", "in_transit"),
        (
            "return_to_sender",
            "address_not_found",
            "return_to_sender/address_not_found",
            "in_transit",
        ),
        ("failure", "damaged", "failure/damaged", "in_transit"),
        ("error", "unknown", "error/unknown", "in_transit"),
        ("cancelled", "", "cancelled", "cancelled"),
        ("a_new_status", "", "a_new_status", "handed_to_carrier"),
    ],
)
def test_status_normalisation_table(status, detail, raw_status, lifecycle):
    tracker = event_tracker()
    tracker.update(status=status, status_detail=detail)

    shipment = map_tracker(tracker).shipment

    assert (shipment.raw_status, shipment.status, shipment.delivered_at) == (
        raw_status,
        lifecycle,
        None,
    )


def test_delivered_at_is_the_delivered_scan_or_else_the_last_update():
    tracker = event_tracker()
    tracker.update(status="delivered", status_detail="arrived_at_destination")
    tracker["tracking_details"].append(
        {
            **tracker["tracking_details"][-1],
            "status": "delivered",
            "datetime": "2024-08-05T14:03:00Z",
        }
    )

    delivered = map_tracker(tracker).shipment
    del tracker["tracking_details"][-1]
    without_scan = map_tracker(tracker).shipment

    assert (delivered.status, delivered.delivered_at) == ("delivered", utc(2024, 8, 5, 14, 3))
    assert without_scan.delivered_at == utc(2024, 8, 2, 19, 26, 51)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, r"tracker\.id is missing"),
        ({"tracking_details": "none"}, r"tracker\.tracking_details must be a list, got str"),
        ({"est_delivery_date": "soon"}, r"tracker\.est_delivery_date is not an ISO-8601 date-time"),
        ({"updated_at": "2024-08-02T19:26:51"}, r"tracker\.updated_at has no UTC offset"),
        ({"carrier": {"name": "FedEx"}}, r"tracker\.carrier must be a string, got dict"),
    ],
)
def test_malformed_tracker_raises_naming_the_field(change, reason):
    tracker = event_tracker()
    tracker.update(change)

    with pytest.raises(MappingError, match=reason):
        map_tracker(tracker)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("datetime", None, r"tracker\.tracking_details\[1\]\.datetime is missing"),
        ("datetime", 1722454020, r"tracker\.tracking_details\[1\]\.datetime must be an ISO-8601"),
        (
            "tracking_location",
            "ORLANDO",
            r"tracking_details\[1\]\.tracking_location must be a JSON object",
        ),
    ],
)
def test_malformed_tracking_detail_raises_naming_its_path(key, value, reason):
    tracker = event_tracker()
    tracker["tracking_details"][1][key] = value

    with pytest.raises(MappingError, match=reason):
        map_tracker(tracker)


def test_mapping_another_stream_raises(adapter):
    with pytest.raises(MappingError, match="does not map stream 'shipments'"):
        adapter.map("shipments", created_tracker())
    with pytest.raises(ValueError, match="no stream 'shipments'"):
        adapter.fetch("shipments", {})


# -- webhooks -------------------------------------------------------------------------------
def test_signature_vector_verifies_and_yields_the_tracker(adapter, vector, signed_body):
    event = adapter.parse_webhook(body=signed_body, headers=vector["headers"], url="")

    assert (event.event_id, event.topic, event.stream) == ("evt_1", "tracker.updated", "trackers")
    assert event.payload == event_tracker()
    assert event.extra == {"mode": "production", "created_at": "2024-08-02T19:26:52.000Z"}
    assert adapter.map(event.stream, event.payload).shipment.status == "in_transit"


def test_signature_header_is_found_in_django_request_headers(adapter, vector, signed_body):
    headers = HttpHeaders({"HTTP_X_HMAC_SIGNATURE": vector["headers"]["X-Hmac-Signature"]})

    assert adapter.parse_webhook(body=signed_body, headers=headers, url="").event_id == "evt_1"


def test_signature_with_a_trailing_newline_fails(adapter, vector, signed_body):
    with pytest.raises(WebhookSignatureError, match="does not match"):
        adapter.parse_webhook(body=signed_body + b"\n", headers=vector["headers"], url="")


def test_nfc_keyed_signature_fails_because_easypost_keys_with_nfkd(vector, signed_body):
    nfc_signed = sign(vector["webhook_secret"], signed_body, form="NFC")
    assert nfc_signed["X-Hmac-Signature"].startswith("hmac-sha256-hex=7f1669d6")

    for stored_secret in ("s\u00e9cret", "se\u0301cret"):  # the NFC and the NFKD spelling
        adapter = EasyPostAdapter(base_url=BASE, credentials={"api_key": API_KEY, "webhook_secret": stored_secret})
        with pytest.raises(WebhookSignatureError, match="does not match"):
            adapter.parse_webhook(body=signed_body, headers=nfc_signed, url="")
        event = adapter.parse_webhook(body=signed_body, headers=vector["headers"], url="")
        assert event.event_id == "evt_1"


def test_missing_header_wrong_secret_or_no_secret_fail(adapter, vector, signed_body):
    with pytest.raises(WebhookSignatureError, match="missing X-Hmac-Signature"):
        adapter.parse_webhook(body=signed_body, headers={}, url="")
    for credentials in ({"api_key": API_KEY, "webhook_secret": "secret"}, {"api_key": API_KEY}):
        other = EasyPostAdapter(base_url=BASE, credentials=credentials)
        with pytest.raises(WebhookSignatureError):
            other.parse_webhook(body=signed_body, headers=vector["headers"], url="")


def test_other_event_descriptions_are_refused_after_verification(adapter, vector):
    body = json.dumps({"description": "batch.created", "id": "evt_2", "result": {}}).encode()

    with pytest.raises(ValueError, match="unsupported event 'batch.created'"):
        adapter.parse_webhook(body=body, headers=sign(vector["webhook_secret"], body), url="")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[]", "not a JSON object"),
        (b"{not json", "not JSON"),
        (b'{"description": "tracker.updated", "result": {}}', "has no id"),
        (b'{"description": "tracker.updated", "id": "evt_3", "result": []}', "no result object"),
    ],
)
def test_unusable_signed_bodies_raise_value_error(adapter, vector, body, reason):
    with pytest.raises(ValueError, match=reason):
        adapter.parse_webhook(body=body, headers=sign(vector["webhook_secret"], body), url="")


def test_tracker_created_events_are_accepted_too(adapter, vector):
    body = json.dumps({"description": "tracker.created", "id": "evt_4", "result": created_tracker()})

    event = adapter.parse_webhook(body=body.encode(), headers=sign(vector["webhook_secret"], body.encode()), url="")

    assert (event.topic, event.stream, event.payload["id"]) == (
        "tracker.created",
        "trackers",
        "trk_e7e8f143f3eb40d38be9562e3767c36a",
    )


# -- fetching -------------------------------------------------------------------------------
def _tracker(tracker_id: str, updated_at: str) -> dict:
    return {**created_tracker(), "id": tracker_id, "updated_at": updated_at}


@responses.activate
def test_trackers_walk_older_pages_by_before_id_and_end_on_the_watermark(adapter):
    responses.get(
        f"{BASE}/v2/trackers",
        match=[
            matchers.query_param_matcher({"page_size": "2", "updated_at_min": "2025-03-01T00:00:00Z"}),
            matchers.header_matcher({"Authorization": "Basic RVpUS190ZXN0Og=="}),
        ],
        json={
            "trackers": [
                _tracker("trk_3", "2025-03-06T19:48:26Z"),
                _tracker("trk_2", "2025-03-07T08:00:00Z"),
            ],
            "has_more": True,
        },
    )
    responses.get(
        f"{BASE}/v2/trackers",
        match=[
            matchers.query_param_matcher(
                {"page_size": "2", "updated_at_min": "2025-03-01T00:00:00Z", "before_id": "trk_2"}
            )
        ],
        json={"trackers": [_tracker("trk_1", "2025-03-02T10:00:00Z")], "has_more": False},
    )

    first = adapter.fetch("trackers", {"updated_at_min": "2025-03-01T00:00:00Z"})
    second = adapter.fetch("trackers", first.cursor)

    assert ([t["id"] for t in first.items], first.has_more) == (["trk_3", "trk_2"], True)
    assert first.cursor == {
        "updated_at_min": "2025-03-01T00:00:00Z",
        "before_id": "trk_2",
        "watermark": "2025-03-07T08:00:00Z",
    }
    assert ([t["id"] for t in second.items], second.has_more) == (["trk_1"], False)
    assert second.cursor == {"updated_at_min": "2025-03-07T08:00:00Z"}


@responses.activate
def test_first_run_sends_no_filter_caps_the_page_size_and_keeps_an_empty_cursor(adapter):
    adapter.page_size = 250
    responses.get(
        f"{BASE}/v2/trackers",
        match=[matchers.query_param_matcher({"page_size": "100"})],
        json={"trackers": [], "has_more": False},
    )

    page = adapter.fetch("trackers", {})

    assert (page.items, page.cursor, page.has_more) == ([], {}, False)


@responses.activate
def test_a_page_whose_oldest_tracker_has_no_id_pages_on_the_last_one_that_has(adapter):
    broken = {**_tracker("trk_0", "2025-03-02T10:00:00Z"), "id": None}
    responses.get(
        f"{BASE}/v2/trackers",
        json={"trackers": [_tracker("trk_5", "2025-03-06T19:48:26Z"), broken], "has_more": True},
    )

    page = adapter.fetch("trackers", {})

    assert page.cursor == {"before_id": "trk_5", "watermark": "2025-03-06T19:48:26Z"}


@responses.activate
def test_refused_key_is_a_permanent_transport_error(adapter):
    responses.get(
        f"{BASE}/v2/trackers",
        status=401,
        json={
            "error": {
                "code": "APIKEY.REQUIRED",
                "message": "Missing or invalid API key.",
                "errors": [],
            }
        },
    )

    with pytest.raises(TransportError) as error:
        adapter.fetch("trackers", {})

    assert (error.value.permanent, error.value.status) == (True, 401)
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"trackers": []}, "without a 'trackers' list and 'has_more'"),
        ({"error": {"code": "X"}}, "without a 'trackers' list"),
        ("<html>", "not JSON"),
    ],
)
@responses.activate
def test_an_answer_without_the_list_is_a_transient_transport_error(adapter, body, reason):
    mock_answer(f"{BASE}/v2/trackers", body)

    with pytest.raises(TransportError, match=reason) as error:
        adapter.fetch("trackers", {})

    assert error.value.permanent is False
