"""Who sees what: agents and supervisors see every store; store staff only their own stores.

Every view, partial and API endpoint reads orders and customers through these
querysets, so an object outside the user's stores is simply not found (404), the
same answer as an id that does not exist.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from .models import Customer, Order, Store
from .roles import AGENT, SUPERVISOR, user_role


def role(user) -> str | None:
    """The user's role, read once per request (cached on the user object)."""
    if not hasattr(user, "_omnidesk_role"):
        user._omnidesk_role = user_role(user)
    return user._omnidesk_role


def sees_every_store(user) -> bool:
    """Agents and supervisors (and superusers) work across stores."""
    return role(user) in (AGENT, SUPERVISOR)


def store_ids(user) -> list[int]:
    """The stores a store-staff user is linked to (cached on the user for the request)."""
    if not hasattr(user, "_omnidesk_store_ids"):
        user._omnidesk_store_ids = list(user.stores.values_list("pk", flat=True))
    return user._omnidesk_store_ids


def visible_stores(user) -> QuerySet[Store]:
    """The stores whose counter, board and flags this user may work: all, or store staff's own."""
    if sees_every_store(user):
        return Store.objects.all()
    if not user.is_authenticated:
        return Store.objects.none()
    return Store.objects.filter(pk__in=store_ids(user))


def visible_orders(user) -> QuerySet[Order]:
    if sees_every_store(user):
        return Order.objects.all()
    if not user.is_authenticated:
        return Order.objects.none()
    return Order.objects.filter(store_id__in=store_ids(user))


def visible_customers(user) -> QuerySet[Customer]:
    """Store staff see a customer when the customer has an order at one of their stores."""
    if sees_every_store(user):
        return Customer.objects.all()
    if not user.is_authenticated:
        return Customer.objects.none()
    orders_here = Order.objects.filter(customer=OuterRef("pk"), store_id__in=store_ids(user))
    return Customer.objects.filter(Exists(orders_here))
