"""Small hardenings from the security review: admin rights, /health/, dead-letter reasons, the production profile."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.urls import reverse
from pydantic import BaseModel, ValidationError

from integrations.sync import _reason
from tests.factories import agent, clerk_of
from tests.orders import scene as scenes


@pytest.mark.django_db
def test_store_staff_hold_no_admin_permission_and_cannot_open_it_even_as_staff(client):
    scene = scenes.build()
    clerk = clerk_of(scene.downtown, "dan.downtown")
    clerk.is_staff = True  # given by mistake: still nothing
    clerk.save()
    client.force_login(clerk)

    assert clerk.get_all_permissions() == set()
    assert client.get("/admin/orders/customer/").status_code == 403
    assert client.get(reverse("admin:orders_customer_change", args=[scene.zoe.pk])).status_code == 403


@pytest.mark.django_db
def test_health_counts_only_the_orders_and_customers_store_staff_may_see(client):
    scene = scenes.build()  # Downtown: Zoë's two orders; Uptown: Ada's one
    client.force_login(clerk_of(scene.downtown, "dan.downtown"))
    clerk_page = client.get(reverse("health")).content.decode()
    client.force_login(agent())
    agent_page = client.get(reverse("health")).content.decode()

    assert "<strong>2</strong> orders · <strong>1</strong> customers" in clerk_page
    assert "<strong>3</strong> orders · <strong>2</strong> customers" in agent_page


class _Contact(BaseModel):
    email: int
    name: int


def test_a_dead_letter_reason_names_the_fields_never_their_values():
    with pytest.raises(ValidationError) as caught:
        _Contact(email="zoe.muller@example.com", name="Zoë Müller")

    reason = _reason(caught.value)

    assert reason == (
        "ValidationError: email: Input should be a valid integer, unable to parse string as an integer; "
        "name: Input should be a valid integer, unable to parse string as an integer"
    )


def _check_deploy(**env) -> subprocess.CompletedProcess:
    # A deployment's environment: none of the test run's own settings (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    skip = ("EMAIL_", "OMNIDESK_", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    secret = "s" * 20 + "-production-secret-with-enough-entropy-1234567890"
    base.update(OMNIDESK_PROFILE="production", SECRET_KEY=secret, ALLOWED_HOSTS="desk.example.com", **env)
    return subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"EMAIL_HOST": "smtp.example.com"}, "OMNIDESK_CREDENTIALS_KEY must be set"),
        ({"OMNIDESK_CREDENTIALS_KEY": "key"}, "needs a mail backend that sends"),
        (
            {"OMNIDESK_CREDENTIALS_KEY": "key", "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
            "needs a mail backend that sends",
        ),
    ],
)
def test_the_production_profile_refuses_to_start_without_a_credentials_key_or_a_real_mail_backend(env, refusal):
    answer = _check_deploy(**env)

    assert answer.returncode != 0
    assert refusal in answer.stderr


def test_check_deploy_is_clean_in_the_production_profile():
    answer = _check_deploy(OMNIDESK_CREDENTIALS_KEY=Fernet.generate_key().decode(), EMAIL_HOST="smtp.example.com")

    assert (answer.returncode, answer.stdout.strip()) == (0, "System check identified no issues (0 silenced).")
