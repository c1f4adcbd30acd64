"""Notes written, corrected or deleted in the admin keep the timeline true: it never quotes other words."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.catalogue.merges import customer_merge
from orders.desk.services import note_write
from orders.models import Note, TimelineEvent
from tests.factories import CustomerFactory, OrderFactory, agent, supervisor

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client):
    user = supervisor()
    client.force_login(user)
    return user


def test_a_note_added_in_the_admin_is_the_supervisors_own_and_on_the_timeline(client, boss):
    order = OrderFactory()
    someone_else = agent()

    answer = client.post(
        reverse("admin:orders_note_add"),
        {"order": order.pk, "customer": "", "author": someone_else.pk, "body": "Called the depot: van left 14:10."},
    )

    assert answer.status_code == 302
    note = Note.objects.get()
    assert (note.author, note.order, note.body) == (boss, order, "Called the depot: van left 14:10.")
    event = TimelineEvent.objects.get(kind="note")
    assert (event.key, event.order_id, event.actor_id, event.summary) == (
        f"note:{note.pk}",
        order.pk,
        boss.pk,
        "Called the depot: van left 14:10.",
    )


def test_a_corrected_note_and_its_timeline_row_read_the_same(client, boss):
    order = OrderFactory()
    writer = agent()
    note = note_write(customer=None, order=order, author=writer, body="Refund sent to the wrong card")
    other = OrderFactory()

    answer = client.post(
        reverse("admin:orders_note_change", args=[note.pk]),
        {"order": other.pk, "body": "Refund sent to the card ending 4242"},
    )

    assert answer.status_code == 302
    note.refresh_from_db()
    assert (note.body, note.author, note.order) == ("Refund sent to the card ending 4242", writer, order)
    assert list(TimelineEvent.objects.filter(kind="note").values_list("summary", "order_id", "actor_id")) == [
        ("Refund sent to the card ending 4242", order.pk, writer.pk)
    ]


def test_a_card_number_is_refused_next_to_the_body(client, boss):
    order = OrderFactory()

    answer = client.post(reverse("admin:orders_note_add"), {"order": order.pk, "body": "card 4242 4242 4242 4242"})

    assert answer.status_code == 200
    assert list(answer.context["adminform"].form.errors) == ["body"]
    assert (Note.objects.count(), TimelineEvent.objects.filter(kind="note").count()) == (0, 0)


def test_deleted_notes_take_their_timeline_rows_with_them(client, boss):
    customer = CustomerFactory()
    kept, gone_one, gone_two = (
        note_write(customer=customer, order=None, author=boss, body=words) for words in ("kept", "oops", "oops too")
    )

    client.post(reverse("admin:orders_note_delete", args=[gone_one.pk]), {"post": "yes"})
    client.post(
        reverse("admin:orders_note_changelist"),
        {"action": "delete_selected", "_selected_action": [gone_two.pk], "post": "yes"},
    )

    assert list(Note.objects.values_list("body", flat=True)) == ["kept"]
    assert list(TimelineEvent.objects.filter(kind="note").values_list("key", "summary")) == [
        (f"note:{kept.pk}", "kept")
    ]


def test_a_note_of_a_customer_merged_since_is_corrected_and_deleted_with_its_row(client, boss):
    # Given a note on a customer who was then merged into another (the note and its row moved together)
    survivor, merged = CustomerFactory(), CustomerFactory()
    note = note_write(customer=merged, order=None, author=boss, body="Asked for a callback")
    customer_merge(survivor_id=survivor.pk, merged_ids=[merged.pk], key="loyalty:L-1", by=boss)

    # When a supervisor corrects the note's words, and then deletes it
    client.post(reverse("admin:orders_note_change", args=[note.pk]), {"customer": survivor.pk, "body": "Call back"})
    corrected = list(TimelineEvent.objects.filter(kind="note").values_list("summary", "customer_id"))
    client.post(reverse("admin:orders_note_delete", args=[note.pk]), {"post": "yes"})

    # Then the row read the corrected words on the survivor, and went with the note
    assert corrected == [("Call back", survivor.pk)]
    assert (Note.objects.count(), TimelineEvent.objects.filter(kind="note").count()) == (0, 0)
