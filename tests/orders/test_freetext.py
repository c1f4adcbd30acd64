"""What staff type: no card number in any free-text field (whatever the separators), capped lengths, capped pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.freetext import has_card_number
from orders.models import Flag, Handover, Interaction, Lifecycle, Note, Order, PickupLine
from tests.factories import OrderFactory, agent, clerk_of
from tests.orders import scene as scenes

CARDS = [
    "4242 4242 4242 4242",
    "4242.4242.4242.4242",
    "4242--4242--4242--4242",
    "4242424242424242",
    "4242/4242/4242/4242",
    "card: 4242 - 4242 - 4242 - 4242, thanks",
    "order 1001, 4242 4242 4242 4242",  # after an order number
    "5105 1051 0510 5100",
    "3782 822463 10005",  # Amex grouping
]
NOT_CARDS = [
    "call 312-555-0147 about #1001",
    "4242 4242 4242 4241",  # fails the checksum
    "S00042, tracking 1Z999AA10123456784",
    "ends 4242, expires 11/27",
]


@pytest.mark.parametrize("text", CARDS)
def test_card_numbers_are_found_across_any_separators(text):
    assert has_card_number(text) is True


@pytest.mark.parametrize("text", NOT_CARDS)
def test_other_numbers_are_not_card_numbers(text):
    assert has_card_number(text) is False


@pytest.fixture
def scene(db, monkeypatch):
    monkeypatch.setattr("orders.counter.outbox._push_dispatch", lambda push_id: None)
    scene = scenes.build()
    web = scene.web_order
    web.shipments.all().delete()
    Order.objects.filter(pk=web.pk).update(status=Lifecycle.PAID, promised_by=timezone.now())
    scene.flag = Flag.objects.create(order=web, code=Flag.Code.PROMISE_MISSED, detail="promised yesterday")
    return scene


def _written():
    return (
        Note.objects.count(),
        Interaction.objects.count(),
        Flag.objects.filter(snoozed_until__isnull=False).count(),
        Flag.objects.filter(closed_at__isnull=False).count(),
        PickupLine.objects.count(),
        Handover.objects.count(),
    )


def _typed_everywhere(client, scene, text: str) -> dict[str, tuple[int, str]]:
    """Type ``text`` into every free-text field a person fills in; the answers (status, page)."""
    zoe, web, flag = scene.zoe.pk, scene.web_order, scene.flag
    line = web.lines.get()
    worklist = reverse("worklist")
    client.force_login(agent())
    answers = {
        "note": client.post(reverse("note_add", args=[zoe]), {"body": text}),
        "verified": client.post(reverse("identity_verified", args=[zoe]), {"method": text}),
        "snooze": client.post(
            reverse("flag_action", args=[flag.pk, "snooze"]),
            {"hours": 4, "reason": text, "next": worklist},
            follow=True,
        ),
        "resolve": client.post(
            reverse("flag_action", args=[flag.pk, "resolve"]), {"reason": text, "next": worklist}, follow=True
        ),
        "flag_note": client.post(
            reverse("flag_action", args=[flag.pk, "note"]), {"body": text, "next": worklist}, follow=True
        ),
    }
    client.force_login(clerk_of(scene.downtown, "dana.downtown"))
    counter = ("downtown", web.pk)
    answers["missing"] = client.post(
        reverse("pickup_line", args=[*counter, line.pk]), {"state": "missing", "missing_quantity": 1, "reason": text}
    )
    answers["refusal"] = client.post(reverse("pickup_handover", args=counter), {"action": "refuse", "refusal": text})
    answers["name"] = client.post(
        reverse("pickup_handover", args=counter), {"name": text, "id_check": "id_seen", "lines": [line.pk]}
    )
    return {name: (r.status_code, r.content.decode()) for name, r in answers.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("card", ["4242.4242.4242.4242", "4242--4242--4242--4242", "4242424242424242"])
def test_every_free_text_field_refuses_a_card_number_and_writes_nothing(client, scene, card):
    before = _written()

    answers = _typed_everywhere(client, scene, f"paid with {card}")

    assert {name: status for name, (status, _) in answers.items()} == {
        "note": 400,
        "verified": 400,
        "snooze": 200,  # back on the worklist, the error on top
        "resolve": 200,
        "flag_note": 200,
        "missing": 422,
        "refusal": 422,
        "name": 422,
    }
    assert {name: "card number" in page for name, (_, page) in answers.items()} == dict.fromkeys(answers, True)
    assert _written() == before


@pytest.mark.django_db
def test_text_over_the_cap_is_refused_with_a_clear_error_and_nothing_is_written(client, scene):
    before = _written()

    answers = _typed_everywhere(client, scene, "x" * 2001)

    assert {name: status for name, (status, _) in answers.items()} == {
        "note": 400,
        "verified": 400,
        "snooze": 200,
        "resolve": 200,
        "flag_note": 200,
        "missing": 422,
        "refusal": 422,
        "name": 422,
    }
    assert 'id="note-error">Ensure this value has at most 2000 characters (it has 2001).' in answers["note"][1]
    assert 'id="verify-error">Ensure this value has at most 200 characters (it has 2001).' in answers["verified"][1]
    assert "Reason: Ensure this value has at most 300 characters (it has 2001)." in answers["snooze"][1]
    assert "the reason is 2001 characters long; keep it under 300" in answers["missing"][1]
    assert "the reason for the refusal is 2001 characters long; keep it under 300" in answers["refusal"][1]
    assert "the name given is 2001 characters long; keep it under 200" in answers["name"][1]
    assert _written() == before


@pytest.mark.django_db
def test_a_page_size_asked_for_in_the_url_is_capped(client, scene):
    orders = OrderFactory.create_batch(130, customer=scene.zoe, store=scene.downtown)
    Flag.objects.bulk_create(Flag(order=o, code=Flag.Code.PHANTOM_ORDER, detail="not in the ERP") for o in orders)
    client.force_login(agent())

    worklist = client.get(reverse("worklist"), {"per_page": 1000000}).content.decode()
    customer = client.get(reverse("customer", args=[scene.zoe.pk]), {"per_page": 1000000}).content.decode()
    smaller = client.get(reverse("worklist"), {"per_page": 10}).content.decode()

    assert (worklist.count('id="flag-'), customer.count('id="order-row-'), smaller.count('id="flag-')) == (100, 100, 10)
