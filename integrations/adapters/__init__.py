"""Vendor adapters, one module per vendor API, registered by name."""

from __future__ import annotations

from importlib import import_module

from ..hosts import HostGuard
from .base import Adapter, CollectedLine, Page, WebhookEvent, WebhookSignatureError

# adapter name -> "module:Class"; a new vendor is one module plus one line here.
REGISTRY = {
    "shopify": "integrations.adapters.shopify:ShopifyAdapter",
    "square": "integrations.adapters.square:SquareAdapter",
    "odoo": "integrations.adapters.odoo:OdooAdapter",
    "hubspot": "integrations.adapters.hubspot:HubSpotAdapter",
    "easypost": "integrations.adapters.easypost:EasyPostAdapter",
}


def adapter_class(name: str) -> type[Adapter]:
    try:
        module_name, class_name = REGISTRY[name].split(":")
    except KeyError:
        raise ValueError(f"unknown adapter {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    return getattr(import_module(module_name), class_name)


def adapter_for(source, **kwargs) -> Adapter:
    """Build the adapter of a :class:`~integrations.models.Source`; its requests go only to the vendor's hosts."""
    cls = adapter_class(source.adapter)
    kwargs.setdefault("guard", HostGuard(cls.allowed_hosts))
    return cls(
        base_url=source.base_url,
        credentials=source.credentials,
        page_size=source.page_size,
        **kwargs,
    )


__all__ = [
    "REGISTRY",
    "Adapter",
    "Page",
    "CollectedLine",
    "WebhookEvent",
    "WebhookSignatureError",
    "adapter_class",
    "adapter_for",
]
