"""EasyPost v2 trackers: ``GET /v2/trackers`` and ``GET /v2/trackers/<id>``.

Trackers list newest first. Paging is EasyPost's: ``page_size`` (≤ 100, default 20)
and ``before_id`` (the last id of the previous page), with ``has_more``; ``after_id``
keeps only trackers created after that one. Filters: ``start_datetime``/
``end_datetime`` (created), ``tracking_code``, ``carrier`` and, as the sandbox's
incremental filter, ``updated_at_min``/``updated_at_max``.
"""

from __future__ import annotations

import base64
import binascii

from ..model import iso_z, parse_time
from ..streams import walk
from . import Request, Response, VendorError, corrupt, limit_arg, reply

API_USER = "ep_sandbox"


def error(status: int, code: str, message: str) -> VendorError:
    return VendorError(status, {"error": {"code": code, "message": message, "errors": []}})


def _authorised(req: Request) -> bool:
    scheme, _, encoded = req.header("Authorization").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user == API_USER


def handle(world, req: Request) -> Response:
    if not _authorised(req):
        return reply(
            {
                "error": {
                    "code": "APIKEY.REQUIRED",
                    "message": "Missing or invalid API key.",
                    "errors": [],
                }
            },
            401,
        )
    path = req.path.rstrip("/")
    try:
        if req.method == "GET" and path == "/v2/trackers":
            return list_trackers(world, req)
        if req.method == "GET" and path.startswith("/v2/trackers/"):
            stream = world.stream("easypost", "trackers")
            i = _position(world, stream, path.rsplit("/", 1)[1])
            return reply(render(world, stream, i, stream.updated_at(i, world.now)))
    except VendorError as exc:
        return reply(exc.payload, exc.status)
    return reply(
        {
            "error": {
                "code": "NOT_FOUND",
                "message": "The requested resource could not be found.",
                "errors": [],
            }
        },
        404,
    )


def _position(world, stream, tracker_id: str) -> int:
    i = stream.find(tracker_id)
    if i is None or not stream.exists(i, world.now):
        raise error(404, "NOT_FOUND", "The requested resource could not be found.")
    return i


def _time(req: Request, name: str, *, ceil: bool) -> int | None:
    value = req.arg(name)
    if not value:
        return None
    try:
        return parse_time(value, ceil=ceil)
    except ValueError:
        raise error(422, "PARAMETER.INVALID", f"Invalid value for {name}.") from None


def list_trackers(world, req: Request) -> Response:
    try:
        limit = limit_arg(req.arg("page_size"), default=20, maximum=100)
    except ValueError:
        raise error(422, "PARAMETER.INVALID", "page_size must be between 1 and 100.") from None
    stream = world.stream("easypost", "trackers")
    now = world.now
    created_min, created_max = (
        _time(req, "start_datetime", ceil=True),
        _time(req, "end_datetime", ceil=False),
    )
    updated_min, updated_max = (
        _time(req, "updated_at_min", ceil=True),
        _time(req, "updated_at_max", ceil=False),
    )
    code, carrier = req.arg("tracking_code"), req.arg("carrier")
    after = None
    if req.arg("before_id"):
        i = _position(world, stream, req.arg("before_id"))
        after = (stream.versions[i][0], stream.keys[i])
    floor = -1
    if req.arg("after_id"):
        floor = stream.keys[_position(world, stream, req.arg("after_id"))]

    def accept(i: int) -> bool:
        parcel = stream.objects[i]
        if (
            parcel.seq <= floor
            or (code and parcel.code != code)
            or (carrier and parcel.carrier.lower() != carrier.lower())
        ):
            return False
        if updated_min is None and updated_max is None:
            return True
        updated = stream.updated_at(i, now)
        return (updated_min is None or updated >= updated_min) and (updated_max is None or updated <= updated_max)

    high = now if created_max is None else min(now, created_max)
    rows, more = walk(
        stream.created_rows(),
        limit=limit,
        accept=accept,
        low=created_min,
        high=high,
        after=after,
        desc=True,
    )
    trackers = [render(world, stream, r[2], stream.updated_at(r[2], now)) for r in rows]
    response = reply({"trackers": trackers, "has_more": more})
    if more:
        response.follow = req.follow(query={"before_id": stream.externals[rows[-1][2]]})
    return response


def _location(place) -> dict:
    city, state, zip_code = place
    return {
        "object": "TrackingLocation",
        "city": city.upper(),
        "state": state,
        "country": "US",
        "zip": zip_code,
    }


def render(world, stream, i: int, updated: int) -> dict:
    parcel = stream.objects[i]
    now = world.now
    scans = [s for s in parcel.scans if s[0] <= now]
    last = scans[-1]
    origin, dest = (
        parcel.scans[0][4],
        (parcel.order.person.city, parcel.order.person.state, parcel.order.person.zip),
    )
    status, detail = last[1], last[2]
    if (
        parcel.silent
    ):  # never scanned: no tracking detail; EasyPost says pre_transit, or unknown before the carrier answers
        scans, (status, detail) = (
            [],
            (("unknown", "unknown") if parcel.order.idx % 2 else ("pre_transit", "status_update")),
        )
    payload = {
        "id": parcel.tracker_id,
        "object": "Tracker",
        "mode": "test",
        "tracking_code": parcel.code,
        "status": status,
        "status_detail": detail,
        "created_at": iso_z(parcel.created),
        "updated_at": iso_z(updated),
        "signed_by": "RECIPIENT" if status == "delivered" else None,
        "weight": None,
        "est_delivery_date": iso_z(parcel.est_delivery),
        "shipment_id": None,
        "carrier": parcel.carrier,
        "tracking_details": [
            {
                "object": "TrackingDetail",
                "message": message,
                "description": "",
                "status": status,
                "status_detail": detail,
                "datetime": iso_z(at),
                "source": parcel.carrier,
                "carrier_code": "",
                "tracking_location": _location(place),
            }  # fmt: skip
            for at, status, detail, message, place in scans
        ],
        "carrier_detail": {
            "object": "CarrierDetail",
            "service": parcel.service,
            "container_type": None,
            "est_delivery_date_local": None,
            "est_delivery_time_local": None,
            "origin_location": f"{origin[0].upper()} {origin[1]}, {origin[2]}",
            "origin_tracking_location": _location(origin),
            "destination_location": f"{dest[0].upper()} {dest[1]}, {dest[2]}",
            "destination_tracking_location": None,
            "guaranteed_delivery_date": None,
            "alternate_identifier": None,
            "initial_delivery_attempt": None,
        },  # fmt: skip
        "finalized": True,
        "is_return": False,
        "public_url": parcel.public_url,
        "fees": [],
    }
    how = world.corruption("easypost", "trackers", parcel.tracker_id)
    if how:
        payload = corrupt(payload, how, id_field="id", list_field="tracking_details", date_field="created_at")
    return payload
