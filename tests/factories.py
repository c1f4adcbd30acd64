"""factory-boy factories and the named personas the tests speak of."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group, User

from integrations.models import Source
from orders import roles
from orders.models import Customer, Order, Store


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"source{n}")
    kind = Source.Kind.STOREFRONT
    adapter = "shopify"
    base_url = "http://127.0.0.1:9/shopify/admin/api/2025-07"


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
