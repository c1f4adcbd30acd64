"""Each vendor's paging walked to the end the way its client would, and the sandbox
credentials: shared by the sandbox's HTTP tests."""

from __future__ import annotations

SIZE = 600  # orders in the world each test module serves
SHOPIFY = {"X-Shopify-Access-Token": "shpat_sandbox"}
SQUARE = {"Authorization": "Bearer sq_sandbox", "Square-Version": "2025-08-20"}
ODOO = {"Authorization": "bearer odoo_sandbox"}
HUBSPOT = {"Authorization": "Bearer hs_sandbox"}
EASYPOST = ("ep_sandbox", "")


def shopify_all(http, server, resource, params=None, limit=37):
    url, query, items, pages = server.url("shopify") + f"/{resource}.json", {"limit": limit, **(params or {})}, [], 0
    while url:
        response = http.get(url, params=query, headers=SHOPIFY)
        assert response.status_code == 200, response.text
        items += response.json()[resource]
        pages += 1
        url, query = response.links.get("next", {}).get("url"), None
    return items, pages


def square_all(http, server, path, root, body):
    items, cursor = [], None
    while True:
        response = http.post(
            server.url("square") + path, json={**body, **({"cursor": cursor} if cursor else {})}, headers=SQUARE
        )
        assert response.status_code == 200, response.text
        data = response.json()
        items += data.get(root, [])
        cursor = data.get("cursor")
        if not cursor:
            return items


def odoo_all(http, server, model, domain, limit=97, fields=None):
    rows, offset = [], 0
    while True:
        body = {
            "domain": domain,
            "limit": limit,
            "offset": offset,
            "order": "write_date asc, id asc",
            **({"fields": fields} if fields else {}),
        }
        response = http.post(server.url("odoo") + f"/json/2/{model}/search_read", json=body, headers=ODOO)
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page
        offset += len(page)
        if len(page) < limit:
            return rows


def hubspot_all(http, server, body):
    results, after, totals = [], None, set()
    while True:
        response = http.post(
            server.url("hubspot") + "/crm/v3/objects/contacts/search",
            json={**body, **({"after": after} if after else {})},
            headers=HUBSPOT,
        )
        assert response.status_code == 200, response.text
        data = response.json()
        results += data["results"]
        totals.add(data["total"])
        after = data.get("paging", {}).get("next", {}).get("after")
        if not after:
            return results, totals


def easypost_all(http, server, params=None):
    trackers, before = [], None
    while True:
        query = {"page_size": 23, **(params or {}), **({"before_id": before} if before else {})}
        response = http.get(server.url("easypost") + "/v2/trackers", params=query, auth=EASYPOST)
        assert response.status_code == 200, response.text
        data = response.json()
        trackers += data["trackers"]
        if not data["has_more"]:
            return trackers
        before = data["trackers"][-1]["id"]


def known_by(truth, system):
    return {o["systems"][system]["external_id"]: o for o in truth["orders"] if system in o["systems"]}


def ids(items, key="id"):
    values = [str(item[key]) for item in items]
    assert len(values) == len(set(values)), "a record was served twice"
    return set(values)
