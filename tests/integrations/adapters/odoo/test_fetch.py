"""Fetching over both transports with keyset paging, and Odoo's errors."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from integrations.adapters.odoo import keyset_domain
from integrations.adapters.odoo_mapping import (
    FIELDS,
    WAREHOUSE_KEY,
)
from integrations.http import TransportError
from integrations.records import (
    MappingError,
)

from ..helpers import utc
from .support import (
    BASE,
    KEY,
    PICKING,
    QUANT,
    SALE_ORDER,
    adapter_for,
)


# -- fetching: both transports, keyset paging ------------------------------------------------
def json2_page(model: str, body: dict, rows: list, **kwargs) -> None:
    responses.post(
        f"{BASE}/json/2/{model}/search_read",
        match=[matchers.json_params_matcher(body), *kwargs.pop("match", [])],
        json=rows,
        **kwargs,
    )


def search(domain: list, model: str) -> dict:
    """The named arguments of one page of ``model.search_read`` (page size 2)."""
    return {
        "domain": domain,
        "fields": FIELDS[model],
        "limit": 2,
        "offset": 0,
        "order": "write_date asc, id asc",
    }


def jsonrpc_call(call_id: int, service: str, method: str, args: list) -> dict:
    """The body of one ``POST /jsonrpc`` call."""
    return {
        "jsonrpc": "2.0",
        "method": "call",
        "id": call_id,
        "params": {"service": service, "method": method, "args": args},
    }


TIE = "2025-04-02 16:31:21"
TIE_DOMAIN = ["|", ["write_date", ">", TIE], "&", ["write_date", "=", TIE], ["id", ">", 43]]


@responses.activate
def test_json2_keyset_paging_survives_a_write_date_tie():
    adapter = adapter_for(database="shop")
    json2_page(
        "sale.order",
        search([], "sale.order"),
        [{**SALE_ORDER, "write_date": TIE}, {**SALE_ORDER, "id": 43, "write_date": TIE}],
        match=[matchers.header_matcher({"Authorization": f"bearer {KEY}", "X-Odoo-Database": "shop"})],
    )
    json2_page(
        "sale.order",
        search(TIE_DOMAIN, "sale.order"),
        [{**SALE_ORDER, "id": 44, "write_date": TIE}],
    )

    first = adapter.fetch("orders", {})
    second = adapter.fetch("orders", first.cursor)

    assert ([row["id"] for row in first.items], first.has_more) == ([42, 43], True)
    assert first.cursor == {"write_date": TIE, "id": 43}
    assert ([row["id"] for row in second.items], second.has_more) == ([44], False)
    assert second.cursor == {"write_date": TIE, "id": 44}


@responses.activate
def test_jsonrpc_pages_through_execute_kw_with_the_same_keyset():
    adapter = adapter_for("jsonrpc", database="shop", uid="7")
    for n, (domain, rows) in enumerate([([], [{**SALE_ORDER, "write_date": TIE}]), (TIE_DOMAIN, [])], 1):
        options = search(domain, "sale.order")
        del options["domain"]
        call = jsonrpc_call(n, "object", "execute_kw", ["shop", 7, KEY, "sale.order", "search_read", [domain], options])
        responses.post(
            f"{BASE}/jsonrpc",
            match=[matchers.json_params_matcher(call)],
            json={"jsonrpc": "2.0", "id": n, "result": rows},
        )

    first = adapter.fetch("orders", {})
    second = adapter.fetch("orders", {"write_date": TIE, "id": 43})

    assert (first.cursor, first.has_more) == ({"write_date": TIE, "id": 42}, False)
    assert (second.items, second.cursor, second.has_more) == (
        [],
        {"write_date": TIE, "id": 43},
        False,
    )


def test_keyset_domain():
    assert keyset_domain(None) == []
    assert keyset_domain((utc(2025, 4, 2, 16, 31, 21), 43)) == TIE_DOMAIN


@responses.activate
def test_jsonrpc_exchanges_a_login_for_its_uid_once():
    adapter = adapter_for("jsonrpc", login="bot@example.com")
    responses.post(
        f"{BASE}/jsonrpc",
        match=[matchers.json_params_matcher(jsonrpc_call(1, "common", "login", ["", "bot@example.com", KEY]))],
        json={"jsonrpc": "2.0", "id": 1, "result": 9},
    )
    responses.post(f"{BASE}/jsonrpc", json={"jsonrpc": "2.0", "id": 2, "result": []})

    adapter.fetch("partners", {})
    adapter.fetch("partners", {})

    assert [call.request.body.count(b'"login"') for call in responses.calls] == [1, 0, 0]
    assert b'"args": ["", 9, ' in responses.calls[1].request.body


@responses.activate
def test_jsonrpc_login_refused_is_permanent():
    adapter = adapter_for("jsonrpc", login="bot@example.com")
    responses.post(f"{BASE}/jsonrpc", json={"jsonrpc": "2.0", "id": 1, "result": False})

    with pytest.raises(TransportError, match="refused the login 'bot@example.com'") as error:
        adapter.fetch("partners", {})

    assert error.value.permanent is True


@responses.activate
def test_stock_rows_get_the_warehouse_of_their_location_looked_up_once():
    adapter = adapter_for()
    json2_page(
        "stock.quant",
        search([], "stock.quant"),
        [QUANT, {**QUANT, "id": 4, "location_id": [28, "WH/Stock"]}],
    )
    json2_page(
        "stock.location",
        {
            "domain": [["id", "in", [18, 28]]],
            "fields": ["id", "warehouse_id"],
            "limit": 2,
            "offset": 0,
            "order": "id asc",
        },
        [{"id": 18, "warehouse_id": [2, "Downtown"]}, {"id": 28, "warehouse_id": False}],
    )
    later = {"write_date": "2025-04-02 17:05:00", "id": 4}
    json2_page(
        "stock.quant",
        search(keyset_domain((utc(2025, 4, 2, 17, 5), 4)), "stock.quant"),
        [{**QUANT, "id": 5}],
    )

    first = adapter.fetch("stock", {})
    second = adapter.fetch("stock", later)

    assert [row[WAREHOUSE_KEY] for row in first.items + second.items] == [
        [2, "Downtown"],
        False,
        [2, "Downtown"],
    ]
    assert [adapter.map("stock", row).location_id for row in (first.items[0], second.items[0])] == [
        "2",
        "2",
    ]
    assert len(responses.calls) == 3  # the second page's location was already known


@responses.activate
def test_incoming_pickings_are_placed_at_their_destination():
    adapter = adapter_for()
    receipt = {
        **PICKING,
        "picking_type_code": "incoming",
        "location_id": [5, "Partners/Customers"],
        "location_dest_id": [18, "DT/Stock"],
    }
    json2_page("stock.picking", search([], "stock.picking"), [receipt])
    responses.post(
        f"{BASE}/json/2/stock.location/search_read",
        json=[{"id": 18, "warehouse_id": [2, "Downtown"]}],
    )

    page = adapter.fetch("pickings", {})

    assert adapter.map("pickings", page.items[0]).location_id == "2"
    assert b'"domain": [["id", "in", [18]]]' in responses.calls[1].request.body


@responses.activate
def test_a_full_page_that_cannot_move_the_cursor_is_refused_instead_of_looping():
    adapter = adapter_for()
    # Odoo ≤18 compares the stored microseconds: "> W" also matches the rest of second W.
    responses.post(
        f"{BASE}/json/2/sale.order/search_read",
        json=[{**SALE_ORDER, "write_date": TIE}, {**SALE_ORDER, "id": 43, "write_date": TIE}],
    )

    with pytest.raises(TransportError, match="raise the source's page size") as error:
        adapter.fetch("orders", {"write_date": TIE, "id": 43})

    assert error.value.permanent is True


def test_malformed_cursor_and_unknown_stream_are_refused():
    adapter = adapter_for()

    with pytest.raises(ValueError, match="odoo cursor must be"):
        adapter.fetch("orders", {"write_date": "2025-04-02T16:31:21Z", "id": 43})
    with pytest.raises(ValueError, match="odoo has no stream 'invoices'"):
        adapter.fetch("invoices", {})
    with pytest.raises(MappingError, match="odoo does not map stream 'invoices'"):
        adapter.map("invoices", SALE_ORDER)


# -- Odoo's errors ---------------------------------------------------------------------------
def odoo_error(name: str, message: str) -> dict:
    return {
        "name": name,
        "message": message,
        "arguments": [message],
        "context": {},
        "debug": "Traceback …",
    }


@pytest.mark.parametrize(
    ("status", "name", "message", "permanent"),
    [
        (401, "werkzeug.exceptions.Unauthorized", "Invalid apikey", True),
        (422, "builtins.ValueError", "Invalid field 'mobile' on model 'res.partner'", True),
        (500, "psycopg2.errors.SerializationFailure", "could not serialize access", False),
    ],
)
@responses.activate
def test_json2_errors_name_odoos_error_but_never_repeat_its_message(status, name, message, permanent):
    adapter = adapter_for()
    responses.post(f"{BASE}/json/2/res.partner/search_read", status=status, json=odoo_error(name, message))

    with pytest.raises(TransportError) as error:
        adapter.fetch("partners", {})

    assert str(error.value).endswith(f"; Odoo answered {name.rsplit('.', 1)[-1]}")
    assert message not in str(error.value)
    assert f"answered HTTP {status}" in str(error.value)
    assert (error.value.permanent, error.value.status) == (permanent, status)


@pytest.mark.parametrize(
    ("name", "message", "permanent"),
    [
        ("odoo.exceptions.AccessDenied", "Access Denied", True),
        (
            "odoo.exceptions.AccessError",
            "You are not allowed to access 'Sales Order' records.",
            True,
        ),
        ("builtins.ValueError", "Invalid field 'mobile' on model 'res.partner'", False),
    ],
)
@responses.activate
def test_jsonrpc_error_objects_come_with_http_200_and_raise(name, message, permanent):
    adapter = adapter_for("jsonrpc")
    data = {
        "name": name,
        "debug": "Traceback …",
        "message": message,
        "arguments": [message],
        "context": {},
    }
    responses.post(
        f"{BASE}/jsonrpc",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "error": {"code": 200, "message": "Odoo Server Error", "data": data},
        },
    )

    with pytest.raises(TransportError) as error:
        adapter.fetch("partners", {})

    assert str(error.value) == f"POST /jsonrpc res.partner.search_read: Odoo answered {name.rsplit('.', 1)[-1]}"
    assert (error.value.permanent, error.value.status) == (permanent, 200)


@pytest.mark.parametrize(
    ("transport", "body", "reason"),
    [
        ("json2", {"records": []}, "answered dict instead of a list of rows"),
        ("json2", "<html>", "not JSON"),
        ("jsonrpc", {"jsonrpc": "2.0", "id": 1}, "neither a result nor an error"),
        ("jsonrpc", [1], "not a JSON-RPC response"),
    ],
)
@responses.activate
def test_unusable_answers_are_transient_transport_errors(transport, body, reason):
    adapter = adapter_for(transport)
    url = f"{BASE}/json/2/res.partner/search_read" if transport == "json2" else f"{BASE}/jsonrpc"
    if isinstance(body, str):
        responses.post(url, body=body)
    else:
        responses.post(url, json=body)

    with pytest.raises(TransportError, match=reason) as error:
        adapter.fetch("partners", {})

    assert error.value.permanent is False


@responses.activate
def test_a_full_page_of_rows_without_a_readable_write_date_is_refused():
    adapter = adapter_for()
    truncated = {"id": 42, "name": "S00042", "display_name": "S00042"}  # no write_date
    responses.post(f"{BASE}/json/2/sale.order/search_read", json=[truncated, truncated])

    with pytest.raises(TransportError, match="does not move the cursor past {}"):
        adapter.fetch("orders", {})
