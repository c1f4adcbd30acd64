"""Writes the staff make at their desk: notes, "identity verified" on a call, the zone their screens show."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import reduce

from django.db import transaction
from django.db.models import Q

from ..models import Customer, Interaction, Note, Order, StaffPreference, TimelineEvent
from ..timeline import events


@transaction.atomic
def time_zone_choose(*, user, time_zone: str) -> StaffPreference:
    """The zone every screen of ``user`` shows times in ("" : each order's store's own)."""
    preference, _ = StaffPreference.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    return preference


def time_zone_of(user) -> str:
    """The zone ``user`` chose, or "" (each store's own)."""
    return StaffPreference.objects.filter(user=user).values_list("time_zone", flat=True).first() or ""


def note_write(*, customer: Customer | None, order: Order | None, author, body: str) -> Note:
    """A staff note on a customer or an order, and its timeline event, in one transaction."""
    note = Note.objects.create(customer=customer, order=order, author=author, body=body)
    events.events_write([events.note_added(note=note)])
    return note


@transaction.atomic
def identity_verified_log(*, customer: Customer, author, method: str) -> Interaction:
    """ "Identity verified on this call", and its timeline row, so the next agent today does not ask again."""
    interaction = Interaction.objects.create(
        customer=customer, author=author, kind=Interaction.Kind.IDENTITY_VERIFIED, method=method
    )
    events.events_write([events.identity_verified(interaction=interaction)])
    return interaction


@transaction.atomic
def note_correct(*, note: Note, body: str) -> Note:
    """A supervisor's correction of a note's words: the note and its timeline row read the same afterwards."""
    note.body = body
    note.save(update_fields=["body"])
    TimelineEvent.objects.filter(_note_rows([note])).update(summary=events.note_added(note=note)["summary"])
    return note


@transaction.atomic
def notes_delete(notes: Iterable[Note]) -> None:
    """Delete notes with their timeline rows (which quote them): no trace of words taken back stays on a screen."""
    notes = list(notes)
    if notes:
        TimelineEvent.objects.filter(_note_rows(notes)).delete()
    Note.objects.filter(pk__in=[note.pk for note in notes]).delete()


def _note_rows(notes: list[Note]) -> Q:
    """The timeline rows quoting these notes, found through an index: the timeline has none on its key.

    A note's row is at the note's time (one month's partition) on its order, or its customer's
    (a merge of customers, or of duplicate orders, moves the note and its row together).
    """
    rows = []
    for note in notes:
        event = events.note_added(note=note)
        owner = Q(order_id=note.order_id) if note.order_id else Q(customer_id=note.customer_id)
        rows.append(Q(owner, key=event["key"], occurred_at=event["occurred_at"]))
    return reduce(operator.or_, rows)
