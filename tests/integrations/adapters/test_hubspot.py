"""HubSpotAdapter: contacts against HubSpot's own example, search paging at the HTTP seam, signatures.

No database: the adapter is pure apart from HTTP, which ``responses`` mocks.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from responses import matchers

from integrations.adapters.base import WebhookSignatureError
from integrations.adapters.hubspot import (
    HubSpotAdapter,
    map_contact,
    parse_time,
    signature,
    verify_signature,
)
from integrations.http import TransportError
from integrations.records import CustomerRecord, MappingError
from tests.vendor_fixtures import load

from .helpers import make_adapter, utc

BASE = "https://api.hubapi.com"
SEARCH = f"{BASE}/crm/v3/objects/contacts/search"
TOKEN = "hs_test"
PROPERTIES = [
    "email", "phone", "mobilephone", "firstname", "lastname", "lastmodifieddate",
    "hs_object_id", "loyalty_id",
]  # fmt: skip
SORTS = [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]


def contact(**changes) -> dict:
    payload = load("crm", "hubspot_contact_v3")
    payload.update(changes)
    return payload


@pytest.fixture
def vectors() -> dict:
    return load("crm", "hubspot_webhook_signature_test_vectors")


@pytest.fixture
def adapter(vectors) -> HubSpotAdapter:
    return make_adapter(HubSpotAdapter, BASE, access_token=TOKEN, client_secret=vectors["client_secret"])


def test_adapter_declares_its_contract_and_sends_a_bearer_token():
    assert (HubSpotAdapter.name, HubSpotAdapter.kind, HubSpotAdapter.streams) == (
        "hubspot",
        "crm",
        ("contacts",),
    )
    assert HubSpotAdapter.required_credentials == ("access_token",)
    assert HubSpotAdapter.optional_credentials == ("client_secret",)
    with pytest.raises(ValueError, match="access_token"):
        HubSpotAdapter(base_url=BASE, credentials={})

    adapter = HubSpotAdapter(base_url=BASE, credentials={"access_token": TOKEN})

    assert adapter.client.headers["Authorization"] == "Bearer hs_test"
    assert adapter.external_id("contacts", contact()) == "512"
    assert adapter.external_id("contacts", {"properties": {}}) == ""


# -- mapping ------------------------------------------------------------------------------------------
def test_contact_fixture_maps_with_its_phone_as_written(adapter):
    assert adapter.map("contacts", contact()) == CustomerRecord(
        external_id="512",
        name="Bryan Cooper",
        emails=["bcooper@biglytics.net"],
        phones=["(877) 929-0687"],
        loyalty_id="",
        updated_at=utc(2019, 12, 7, 16, 50, 6, 678000),
    )


def test_mobile_phone_loyalty_id_and_modification_time_in_epoch_ms():
    payload = contact(updatedAt=None)
    payload["properties"].update(
        mobilephone="+1 646 555 0199",
        loyalty_id="LY10042",
        lastmodifieddate="1575737406678",
        firstname=None,
    )

    record = map_contact(payload)

    assert record.phones == ["(877) 929-0687", "+1 646 555 0199"]
    assert (record.name, record.loyalty_id) == ("Cooper", "LY10042")
    assert record.updated_at == utc(2019, 12, 7, 16, 50, 6, 678000)


def test_the_same_number_twice_is_listed_once_and_empty_ones_not_at_all():
    payload = contact()
    payload["properties"].update(mobilephone="(877) 929-0687", email="")

    record = map_contact(payload)

    assert (record.phones, record.emails) == (["(877) 929-0687"], [])


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (["512"], r"contact must be a JSON object, got list"),
        (contact(properties="email=x"), r"contact\.properties must be a JSON object, got str"),
        (contact(id=None), r"contact\.id is missing"),
        (contact(updatedAt="last tuesday"), r"contact\.updatedAt is not an ISO-8601"),
        (contact(updatedAt="2019-12-07T16:50:06"), r"contact\.updatedAt has no UTC offset"),
        (
            contact(properties={"email": ["a@b.c"]}),
            r"contact\.properties\.email must be a string, got list",
        ),
    ],
)
def test_malformed_contact_raises_naming_the_field(payload, reason):
    with pytest.raises(MappingError, match=reason):
        map_contact(payload)


def test_times_are_iso_or_epoch_ms_in_utc():
    assert parse_time("2019-12-07T11:50:06.678-05:00", "t") == utc(2019, 12, 7, 16, 50, 6, 678000)
    assert parse_time(1575737406678, "t") == utc(2019, 12, 7, 16, 50, 6, 678000)
    assert parse_time("", "t") is None


# -- fetching -----------------------------------------------------------------------------------------
def _answer(*contacts, after: str | None = None) -> dict:
    body: dict = {"total": 3, "results": list(contacts)}
    if after is not None:
        body["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return body


@responses.activate
def test_search_filters_on_the_watermark_in_epoch_ms_and_walks_after(adapter):
    request = {
        "sorts": SORTS,
        "properties": PROPERTIES,
        "limit": 2,
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "lastmodifieddate",
                        "operator": "GTE",
                        "value": "1575676800000",
                    }
                ]
            }
        ],
    }
    responses.post(
        SEARCH,
        match=[
            matchers.json_params_matcher(request),
            matchers.header_matcher({"Authorization": "Bearer hs_test"}),
        ],
        json=_answer(contact(), contact(id="513", updatedAt="2019-12-07T17:00:00Z"), after="2"),
    )
    responses.post(
        SEARCH,
        match=[matchers.json_params_matcher({**request, "after": "2"})],
        json=_answer(contact(id="514", updatedAt="2019-12-08T08:00:00.125Z")),
    )

    first = adapter.fetch("contacts", {"start_at": "2019-12-07T00:00:00+00:00"})
    second = adapter.fetch("contacts", first.cursor)

    assert ([c["id"] for c in first.items], first.has_more) == (["512", "513"], True)
    assert first.cursor == {
        "start_at": "2019-12-07T00:00:00+00:00",
        "after": "2",
        "watermark": "2019-12-07T17:00:00+00:00",
    }
    assert ([c["id"] for c in second.items], second.has_more) == (["514"], False)
    assert second.cursor == {"start_at": "2019-12-08T08:00:00.125000+00:00"}


@responses.activate
def test_first_run_sends_no_filter_and_caps_the_page_at_100(adapter):
    adapter.page_size = 250
    request = {"sorts": SORTS, "properties": PROPERTIES, "limit": 100}
    responses.post(SEARCH, match=[matchers.json_params_matcher(request)], json=_answer())

    page = adapter.fetch("contacts", {})

    assert (page.items, page.cursor, page.has_more) == ([], {}, False)


@responses.activate
def test_the_request_fits_hubspots_search_schema(adapter):
    schemas = load("crm", "hubspot_contacts_v3_openapi_schemas_excerpt")["schemas"]
    responses.post(SEARCH, json=_answer())

    adapter.fetch("contacts", {"start_at": "2019-12-07T00:00:00+00:00", "after": "2"})

    sent = json.loads(responses.calls[0].request.body)
    assert set(sent) <= set(schemas["PublicObjectSearchRequest"]["properties"])
    operator_enum = schemas["Filter"]["properties"]["operator"]["enum"]
    assert sent["filterGroups"][0]["filters"][0]["operator"] in operator_enum


@responses.activate
def test_an_opaque_after_token_from_the_schema_example_is_followed(adapter):
    example = load("crm", "hubspot_contacts_v3_openapi_schemas_excerpt")["schemas"]["NextPage"]
    responses.post(SEARCH, json=_answer(contact(), after=example["example"]["after"]))

    page = adapter.fetch("contacts", {})

    assert (page.cursor["after"], page.has_more) == ("NTI1Cg%3D%3D", True)


@responses.activate
def test_past_9900_results_the_search_restarts_from_the_watermark(adapter):
    responses.post(SEARCH, json=_answer(contact(id="9999", updatedAt="2019-12-09T10:00:00Z"), after="10000"))

    page = adapter.fetch(
        "contacts",
        {
            "start_at": "2019-12-07T00:00:00+00:00",
            "after": "9998",
            "watermark": "2019-12-09T09:00:00+00:00",
        },  # fmt: skip
    )

    assert (page.cursor, page.has_more) == ({"start_at": "2019-12-09T10:00:00+00:00"}, True)
    assert json.loads(responses.calls[0].request.body)["after"] == "9998"


@responses.activate
def test_ten_thousand_contacts_in_one_millisecond_stop_the_run_instead_of_looping(adapter):
    responses.post(SEARCH, json=_answer(contact(), after="10000"))

    with pytest.raises(TransportError, match="share lastmodifieddate") as error:
        adapter.fetch("contacts", {"start_at": "2019-12-07T16:50:06.678000+00:00", "after": "9998"})

    assert error.value.permanent is True


@pytest.mark.parametrize(
    ("headers", "sleeps"),
    [
        ({"X-HubSpot-RateLimit-Remaining": "3"}, []),
        (
            {
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            },
            [10.0],
        ),
        ({"X-HubSpot-RateLimit-Remaining": "0"}, [1.0]),
        ({"X-HubSpot-RateLimit-Secondly-Remaining": "0"}, [1.0]),
        ({"X-HubSpot-RateLimit-Secondly-Remaining": "junk"}, []),
    ],
)
@responses.activate
def test_rate_limit_headers_at_zero_wait_out_the_interval(adapter, headers, sleeps):
    responses.post(SEARCH, json=_answer(), headers=headers)

    adapter.fetch("contacts", {})

    assert adapter.client.sleep == sleeps


@responses.activate
def test_an_answer_without_results_is_transient_and_unknown_streams_are_refused(adapter):
    responses.post(SEARCH, json={"status": "error", "message": "oops"})

    with pytest.raises(TransportError, match="without a 'results' list") as error:
        adapter.fetch("contacts", {})

    assert error.value.permanent is False
    with pytest.raises(ValueError, match="no stream 'companies'"):
        adapter.fetch("companies", {})
    with pytest.raises(MappingError, match="does not map stream 'companies'"):
        adapter.map("companies", contact())


# -- signatures -------------------------------------------------------------------------------------------
def test_signature_matches_every_vector(vectors):
    common = {
        "secret": vectors["client_secret"],
        "uri": vectors["url"],
        "body": vectors["request_body"].encode(),
    }
    get = vectors["v2_get_empty_body"]

    assert signature("v1", method="POST", **common) == vectors["v1"]["signature"]
    assert signature("v2", method="POST", **common) == vectors["v2"]["signature"]
    assert (
        signature("v2", method=get["http_method"], **{**common, "body": get["request_body"].encode()})
        == get["signature"]
    )  # fmt: skip
    assert signature("v3", method="POST", timestamp=vectors["v3"]["timestamp"], **common) == vectors["v3"]["signature"]
    with pytest.raises(WebhookSignatureError, match="unsupported signature version 'v4'"):
        signature("v4", method="POST", **common)


def test_v3_uri_is_signed_with_hubspots_decoded_characters(vectors):
    common = {"secret": "s", "method": "POST", "body": b"[]", "timestamp": "1"}

    assert signature("v3", uri="https://a.example/h%3Fx%3A1", **common) == signature(
        "v3", uri="https://a.example/h?x:1", **common
    )


def _v3_headers(vectors: dict, **changes) -> dict:
    headers = {
        "X-HubSpot-Signature-v3": vectors["v3"]["signature"],
        "X-HubSpot-Request-Timestamp": vectors["v3"]["timestamp"],
    }
    headers.update(changes)
    return {k: v for k, v in headers.items() if v is not None}


SENT_AT = utc(2023, 9, 2, 12, 26)  # the v3 vector's timestamp, 1693657560000 ms


@pytest.mark.parametrize(
    ("headers", "body", "now", "reason"),
    [
        ({}, None, SENT_AT + timedelta(seconds=299), None),
        ({}, None, SENT_AT + timedelta(seconds=301), "older than 300 s"),
        ({}, b"{'example_field':'example_valuf'}", SENT_AT, "does not match"),
        ({"X-HubSpot-Request-Timestamp": None}, None, SENT_AT, "Request-Timestamp"),
        ({"X-HubSpot-Request-Timestamp": "1693657560001"}, None, SENT_AT, "does not match"),
        ({"X-HubSpot-Signature-v3": None}, None, SENT_AT, "missing X-HubSpot-Signature-v3"),
    ],
)
def test_v3_vector_verification(vectors, headers, body, now, reason):
    call = {
        "secret": vectors["client_secret"],
        "method": "POST",
        "url": vectors["url"],
        "body": body or vectors["request_body"].encode(),
        "headers": _v3_headers(vectors, **headers),
        "now": now,
    }
    if reason is None:
        verify_signature(**call)
    else:
        with pytest.raises(WebhookSignatureError, match=reason):
            verify_signature(**call)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v1_and_v2_vectors_verify_and_one_changed_byte_fails(vectors, version):
    headers = {"X-HubSpot-Signature": vectors[version]["signature"]}
    if version == "v2":
        headers["X-HubSpot-Signature-Version"] = "v2"
    call = {
        "secret": vectors["client_secret"],
        "method": "POST",
        "url": vectors["url"],
        "headers": headers,
        "now": SENT_AT,
    }

    verify_signature(body=vectors["request_body"].encode(), **call)
    with pytest.raises(WebhookSignatureError, match=f"\\({version}\\) does not match"):
        verify_signature(body=b"{'example_field':'example_valuE'}", **call)


# -- webhooks -------------------------------------------------------------------------------------------
def _signed(vectors: dict, body: bytes, url: str) -> dict:
    timestamp = vectors["v3"]["timestamp"]
    sig = signature(
        "v3",
        secret=vectors["client_secret"],
        method="POST",
        uri=url,
        body=body,
        timestamp=timestamp,
    )
    return {"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": timestamp}


EVENTS = [
    {"eventId": 100, "subscriptionType": "contact.deletion", "objectId": 511, "portalId": 62515},
    {
        "eventId": 1011,
        "subscriptionId": 2201,
        "portalId": 62515,
        "occurredAt": 1693657550000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 512,
        "propertyName": "phone",
        "propertyValue": "(877) 929-0687",
        "changeSource": "CRM",
    },
]


@responses.activate
def test_webhook_verifies_then_refetches_the_first_contact_event(adapter, vectors):
    adapter.clock = lambda: SENT_AT + timedelta(seconds=5)
    body = json.dumps(EVENTS).encode()
    responses.get(
        f"{BASE}/crm/v3/objects/contacts/512",
        match=[matchers.query_param_matcher({"properties": ",".join(PROPERTIES)})],
        json=contact(),
    )

    event = adapter.parse_webhook(body=body, headers=_signed(vectors, body, vectors["url"]), url=vectors["url"])

    assert (event.event_id, event.topic, event.stream) == (
        "1011",
        "contact.propertyChange",
        "contacts",
    )
    assert event.extra == {"portal_id": "62515", "occurred_at": "1693657550000"}
    assert adapter.map(event.stream, event.payload).phones == ["(877) 929-0687"]


def test_the_vector_body_verifies_but_is_not_a_hubspot_event_array(adapter, vectors):
    adapter.clock = lambda: SENT_AT

    with pytest.raises(ValueError, match="webhook body is not JSON"):
        adapter.parse_webhook(
            body=vectors["request_body"].encode(),
            headers=_v3_headers(vectors),
            url=vectors["url"],
        )


@responses.activate
def test_webhook_without_a_live_contact_event_or_with_a_vanished_contact_is_refused(adapter, vectors):
    adapter.clock = lambda: SENT_AT
    url = vectors["url"]
    only_deletions = json.dumps(EVENTS[:1]).encode()
    with pytest.raises(ValueError, match="no contact event"):
        adapter.parse_webhook(body=only_deletions, headers=_signed(vectors, only_deletions, url), url=url)  # fmt: skip

    responses.get(f"{BASE}/crm/v3/objects/contacts/512", status=404, json={"status": "error"})
    body = json.dumps(EVENTS).encode()
    with pytest.raises(ValueError, match="contact 512 no longer exists"):
        adapter.parse_webhook(body=body, headers=_signed(vectors, body, url), url=url)


def test_webhook_without_client_secret_is_refused(vectors):
    adapter = HubSpotAdapter(base_url=BASE, credentials={"access_token": TOKEN})

    with pytest.raises(WebhookSignatureError, match="no client_secret"):
        adapter.parse_webhook(body=vectors["request_body"].encode(), headers=_v3_headers(vectors), url=vectors["url"])
