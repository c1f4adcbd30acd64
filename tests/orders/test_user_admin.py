"""Supervisors manage agents and store staff, and nothing more: no superuser, no staff flag, no passwords."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.urls import reverse

from orders import roles
from tests.factories import StoreFactory, UserFactory, agent, supervisor

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def _change(client, user, **fields):
    data = {"username": user.username, "email": user.email, "is_active": "on", **fields}
    return client.post(reverse("admin:auth_user_change", args=[user.pk]), data)


def test_a_supervisor_cannot_make_anyone_superuser_or_staff_nor_grant_permissions(client):
    boss, alice = supervisor(), agent()
    client.force_login(boss)
    everything = list(Permission.objects.values_list("pk", flat=True)[:5])

    own = _change(client, boss, is_superuser="on", is_staff="on")
    other = _change(client, alice, is_superuser="on", is_staff="on", user_permissions=everything, first_name="Alice")

    boss.refresh_from_db()
    alice.refresh_from_db()
    assert own.status_code == 302  # "not found": their own account is not among those they manage
    assert other.status_code == 302
    assert (boss.is_superuser, alice.is_superuser, alice.is_staff, alice.first_name) == (False, False, False, "Alice")
    assert alice.user_permissions.count() == 0


def test_a_supervisor_cannot_give_the_supervisor_role_or_touch_a_superuser(client):
    boss, alice = supervisor(), agent()
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(boss)

    promote = _change(client, alice, groups=[Group.objects.get(name=roles.SUPERVISOR).pk])
    root_page = client.get(reverse("admin:auth_user_change", args=[root.pk]))

    assert promote.status_code == 200 and "Select a valid choice" in promote.content.decode()
    assert list(alice.groups.values_list("name", flat=True)) == [roles.AGENT]
    assert root_page.status_code == 302  # not among the accounts a supervisor manages
    assert client.get(reverse("admin:auth_user_changelist")).content.decode().count("root@example.com") == 0


def test_a_supervisor_has_no_password_form_and_sends_a_reset_email_instead(client):
    boss, alice = supervisor(), agent()
    alice.email = "alice@example.com"
    alice.save()
    client.force_login(boss)
    url = reverse("admin:auth_user_password_change", args=[alice.pk])

    form = client.get(url)
    set_it = client.post(url, {"password1": "attacker-chose-this-1", "password2": "attacker-chose-this-1"})
    reset = client.post(
        reverse("admin:auth_user_changelist"), {"action": "password_reset_send", "_selected_action": [alice.pk]}
    )

    alice.refresh_from_db()
    assert (form.status_code, set_it.status_code, reset.status_code) == (403, 403, 302)
    assert alice.check_password(PASSWORD)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "/accounts/reset/" in mail.outbox[0].body


def test_a_supervisor_creates_a_clerk_with_a_store_and_can_deactivate_them(client):
    downtown = StoreFactory(code="downtown", name="Downtown")
    client.force_login(supervisor())
    clerk_role = Group.objects.get(name=roles.STORE_STAFF).pk

    created = client.post(
        reverse("admin:auth_user_add"),
        {"username": "new.clerk", "email": "new@example.com", "is_active": "on", "groups": [clerk_role],
         "stores": [downtown.pk]},
    )  # fmt: skip
    clerk = User.objects.get(username="new.clerk")
    _change(client, clerk, groups=[clerk_role], stores=[downtown.pk], is_active="")

    clerk.refresh_from_db()
    assert created.status_code == 302
    assert (clerk.is_active, clerk.is_staff, clerk.is_superuser) == (False, False, False)
    assert list(clerk.stores.values_list("code", flat=True)) == ["downtown"]
    assert list(clerk.groups.values_list("name", flat=True)) == [roles.STORE_STAFF]


def test_a_superuser_keeps_djangos_full_user_admin(client):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    alice = UserFactory(username="alice")
    client.force_login(root)

    page = client.get(reverse("admin:auth_user_change", args=[alice.pk])).content.decode()

    assert 'name="is_superuser"' in page and 'name="user_permissions"' in page
    assert client.get(reverse("admin:auth_user_password_change", args=[alice.pk])).status_code == 200
