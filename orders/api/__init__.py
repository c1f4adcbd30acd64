"""The JSON API for telephony / IVR screen-pop: ``/api/v1/lookup`` and ``/api/v1/orders/<id>``.

Token auth (``Authorization: Token <token>``, tokens from ``manage.py create_api_token``);
the token's user is scoped exactly like the pages (:mod:`orders.access`) and every call
is written to the access log. The OpenAPI document is served at ``/api/v1/schema``
and kept in ``docs/openapi.json``.

``auth`` (tokens and the ``Authorization: Token`` scheme), ``schemas`` (what each answer
holds) and ``endpoints`` (the NinjaAPI and its two GETs; operation ids fixed, so the
OpenAPI document does not follow the module's name).
"""

from .endpoints import api

__all__ = ["api"]
