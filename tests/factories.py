"""factory-boy factories and the named personas the tests speak of."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from integrations.models import Source
from orders import roles
from orders.models import (
    Customer,
    CustomerIdentity,
    Order,
    OrderKey,
    OrderLine,
    OrderRecord,
    Payment,
    Shipment,
    StockLevel,
    Store,
    TrackingEvent,
)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"source{n}")
    kind = Source.Kind.STOREFRONT
    adapter = "shopify"
    base_url = "http://127.0.0.1:9/shopify/admin/api/2025-07"
    # A source in a test's scene has been read: its first sync finished (rules that conclude from
    # absence wait for that, ``orders.flags.rules.ABSENCE_WITNESSES``). A test of a first sync sets None.
    last_success_at = factory.LazyFunction(timezone.now)


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"store-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.com")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"#{1000 + n}")
    customer = factory.SubFactory(CustomerFactory)


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerIdentity

    customer = factory.SubFactory(CustomerFactory)
    source = factory.SubFactory(SourceFactory, name="shopify")
    external_id = factory.Sequence(lambda n: f"cust-{n}")
    name = factory.LazyAttribute(lambda o: o.customer.name)
    email_normalised = factory.LazyAttribute(lambda o: o.customer.email)


class OrderRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderRecord

    order = factory.SubFactory(OrderFactory)
    source = factory.SubFactory(SourceFactory, name="shopify")
    external_id = factory.Sequence(lambda n: f"{5_900_000_000_000 + n}")
    external_number = factory.LazyAttribute(lambda o: o.order.number)
    status = factory.LazyAttribute(lambda o: o.order.status)


class OrderKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderKey

    order = factory.SubFactory(OrderFactory)
    key = factory.LazyAttribute(lambda o: o.order.number.lstrip("#"))


class LineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    source = factory.SubFactory(SourceFactory, name="shopify")
    external_id = factory.Sequence(lambda n: f"line-{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = "Table Lamp"
    quantity = 1
    unit_price = 10


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    source = factory.SubFactory(SourceFactory, name="shopify")
    external_id = factory.Sequence(lambda n: f"pay-{n}")
    kind = Payment.Kind.SALE
    amount = 10


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    source = factory.SubFactory(SourceFactory, name="easypost", kind=Source.Kind.CARRIER, adapter="easypost")
    external_id = factory.Sequence(lambda n: f"trk_{n}")
    carrier = "UPS"
    tracking_number = factory.Sequence(lambda n: f"1Z999AA1{n:010d}")


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingEvent

    shipment = factory.SubFactory(ShipmentFactory)
    source = factory.LazyAttribute(lambda o: o.shipment.source)
    occurred_at = factory.Faker("date_time_this_month", tzinfo=__import__("datetime").UTC)
    status = "in_transit"
    message = factory.Sequence(lambda n: f"Scan {n}")


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    source = factory.SubFactory(SourceFactory, name="odoo", kind=Source.Kind.ERP, adapter="odoo")
    external_id = factory.Sequence(lambda n: f"quant-{n}")
    on_hand = 5


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted == roles.SUPERVISOR:
                self.is_staff = True
        self.save()


def agent() -> User:
    return UserFactory(username="alice.agent", role=roles.AGENT)


def clerk_of(store: Store, username: str) -> User:
    user = UserFactory(username=username, role=roles.STORE_STAFF)
    store.staff.add(user)
    return user


def supervisor() -> User:
    return UserFactory(username="sam.supervisor", role=roles.SUPERVISOR)
