"""The worklist: open flags filtered and sorted, taken, snoozed, resolved, noted — and the customer told once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orders.flags.messaging import CannotMessage, message_context, message_deliver, message_send, messages_auto_send
from orders.models import CustomerMessage, Flag, MessageTemplate, Note, Order, TimelineEvent
from tests.factories import TrackingEventFactory, agent, clerk_of
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    scene = scenes.build()
    now = timezone.now()
    scene.late = Flag.objects.create(
        order=scene.web_order,
        code=Flag.Code.PROMISE_MISSED,
        detail="promised 11-04; not collected",
        opened_at=now - timedelta(hours=30),
    )
    scene.unassigned = Flag.objects.create(
        order=scene.pos_order,
        code=Flag.Code.UNASSIGNED,
        detail="in the ERP 3 h, nobody assigned",
        opened_at=now - timedelta(hours=3),
    )
    scene.uptown_flag = Flag.objects.create(
        order=scene.uptown_order,
        code=Flag.Code.STUCK_SHIPMENT,
        detail="no scan for 50 h",
        opened_at=now - timedelta(hours=50),
    )
    Flag.objects.create(order=scene.uptown_order, code=Flag.Code.PHANTOM_ORDER, closed_at=now)  # closed: not listed
    return scene


@pytest.fixture
def agent_client(client):
    client.force_login(agent())
    return client


def listed(response) -> list[str]:
    html = response.content.decode()
    return [
        f"flag-{pk}" for pk in Flag.objects.order_by("pk").values_list("pk", flat=True) if f'id="flag-{pk}"' in html
    ]


def row_order(response, flags) -> list[int]:
    html = response.content.decode()
    return sorted((f.pk for f in flags if f'id="flag-{f.pk}"' in html), key=lambda pk: html.index(f'id="flag-{pk}"'))


def test_every_open_flag_by_severity_then_age_with_counts(agent_client, scene):
    response = agent_client.get("/worklist/")

    html = response.content.decode()
    assert response.status_code == 200
    assert row_order(response, [scene.late, scene.unassigned, scene.uptown_flag]) == [
        scene.late.pk,  # high
        scene.uptown_flag.pk,  # medium
        scene.unassigned.pk,  # low
    ]
    assert "3 open" in html
    # counted under the words a customer could hear, the code in the title
    assert '<a href="?code=promise_missed" title="promise_missed">Late <strong>1</strong></a>' in html
    assert (
        '<a href="?code=phantom_order" title="phantom_order">Not in the warehouse system <strong>0</strong></a>' in html
    )
    assert '<option value="stuck_shipment">Parcel stuck</option>' in html  # and filtered by them


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"code": "unassigned"}, ["unassigned"]),
        ({"age": "24h"}, ["late", "uptown_flag"]),
        ({"age": "72h"}, []),
        ({"owner": "nobody"}, ["late", "unassigned", "uptown_flag"]),
        ({"owner": "me"}, []),
    ],
)
def test_filters(agent_client, scene, query, expected):
    response = agent_client.get("/worklist/", query)

    assert listed(response) == [f"flag-{pk}" for pk in sorted(getattr(scene, name).pk for name in expected)]


def test_the_store_filter_and_store_staff_scope(client, scene):
    client.force_login(clerk_of(scene.uptown, "uma.uptown"))

    response = client.get("/worklist/")
    denied = client.post(reverse("flag_action", args=[scene.late.pk, "take"]))

    assert listed(response) == [f"flag-{scene.uptown_flag.pk}"]
    assert denied.status_code == 404
    assert Flag.objects.get(pk=scene.late.pk).owner is None


def test_take_puts_the_flag_on_my_list_and_in_the_timeline(agent_client, scene):
    response = agent_client.post(reverse("flag_action", args=[scene.late.pk, "take"]), {"next": "/worklist/?owner=me"})

    assert response.status_code == 302
    assert response["Location"] == "/worklist/?owner=me"
    assert Flag.objects.get(pk=scene.late.pk).owner.username == "alice.agent"
    assert listed(agent_client.get("/worklist/", {"owner": "me"})) == [f"flag-{scene.late.pk}"]
    event = TimelineEvent.objects.get(kind="flag_taken")
    assert (event.order_id, event.summary) == (scene.web_order.pk, "alice.agent took promise_missed")


def test_snooze_hides_until_then_with_its_reason(agent_client, scene):
    agent_client.post(
        reverse("flag_action", args=[scene.unassigned.pk, "snooze"]), {"hours": 4, "reason": "store closed today"}
    )

    flag = Flag.objects.get(pk=scene.unassigned.pk)
    assert flag.snooze_reason == "store closed today"
    assert timedelta(hours=3, minutes=59) < flag.snoozed_until - timezone.now() <= timedelta(hours=4)
    assert f"flag-{flag.pk}" not in listed(agent_client.get("/worklist/"))
    assert f"flag-{flag.pk}" in listed(agent_client.get("/worklist/", {"snoozed": "on"}))
    assert TimelineEvent.objects.get(kind="flag_snoozed").summary.endswith(": store closed today")


def test_resolve_needs_a_reason_and_closes_the_flag(agent_client, scene):
    url = reverse("flag_action", args=[scene.uptown_flag.pk, "resolve"])

    agent_client.post(url, {"reason": ""})
    assert Flag.objects.get(pk=scene.uptown_flag.pk).closed_at is None

    agent_client.post(url, {"reason": "carrier found it, delivered tomorrow"})
    flag = Flag.objects.get(pk=scene.uptown_flag.pk)
    assert (flag.resolution, flag.resolved_by.username) == ("carrier found it, delivered tomorrow", "alice.agent")
    assert flag.closed_at is not None
    assert f"flag-{flag.pk}" not in listed(agent_client.get("/worklist/"))


def test_snooze_says_so_with_an_undo_and_snoozed_rows_look_snoozed(agent_client, scene):
    flag = scene.unassigned
    page = agent_client.post(
        reverse("flag_action", args=[flag.pk, "snooze"]),
        {"hours": 4, "reason": "store closed today", "next": "/worklist/"},
        follow=True,
    ).content.decode()

    assert f"Snoozed Nobody preparing it on {flag.order.number} for 4 h." in page
    undo = reverse("flag_action", args=[flag.pk, "unsnooze"])
    assert f'<form method="post" action="{undo}" class="inline undo">' in page and "Undo snooze" in page
    listing = agent_client.get("/worklist/", {"snoozed": "on"}).content.decode()
    row = re.search(rf'<tr [^>]*id="flag-{flag.pk}"[^>]*>', listing)[0]
    assert row == f'<tr id="flag-{flag.pk}" class="snoozed odd">'

    back = agent_client.post(undo, {"next": "/worklist/"}, follow=True).content.decode()

    assert f"Nobody preparing it on {flag.order.number} is back in the queue." in back
    assert Flag.objects.get(pk=flag.pk).snoozed_until is None
    assert f"flag-{flag.pk}" in listed(agent_client.get("/worklist/"))
    assert TimelineEvent.objects.filter(kind="flag_snoozed").latest("occurred_at").summary == (
        "snooze of unassigned undone by alice.agent"
    )


def test_resolve_says_so_with_an_undo_that_reopens_the_flag(agent_client, scene):
    flag = scene.uptown_flag
    page = agent_client.post(
        reverse("flag_action", args=[flag.pk, "resolve"]), {"reason": "delivered", "next": "/worklist/"}, follow=True
    ).content.decode()
    undo = reverse("flag_action", args=[flag.pk, "reopen"])
    assert "Undo resolve" in page and f'action="{undo}"' in page

    agent_client.post(undo, {"next": "/worklist/"})

    flag.refresh_from_db()
    assert (flag.closed_at, flag.resolved_by, flag.resolution) == (None, None, "")
    assert f"flag-{flag.pk}" in listed(agent_client.get("/worklist/"))
    # Undone twice, or after detection opened a new one: a clear refusal, nothing changed.
    again = agent_client.post(undo, {"next": "/worklist/"}, follow=True).content.decode()
    assert "Cannot undo:" in again and "is open already" in again


def test_a_note_from_the_worklist_lands_on_the_order(agent_client, scene):
    agent_client.post(reverse("flag_action", args=[scene.late.pk, "note"]), {"body": "called the store"})
    agent_client.post(reverse("flag_action", args=[scene.late.pk, "note"]), {"body": "card 4111111111111111"})

    assert list(Note.objects.values_list("order_id", "body")) == [
        (scene.web_order.pk, "[promise_missed] called the store")
    ]
    assert TimelineEvent.objects.filter(kind="note", order=scene.web_order).count() == 1


def test_the_customer_is_told_once_whoever_clicks(agent_client, scene, django_capture_on_commit_callbacks):
    url = reverse("flag_action", args=[scene.late.pk, "message"])

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(url)
        agent_client.post(url)
    message_send(Flag.objects.get(pk=scene.late.pk))

    message = CustomerMessage.objects.get()
    assert (message.to, message.status, message.sent_by.username) == ("zoe.muller@example.com", "sent", "alice.agent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Your order #1001 is late"
    assert "Hello Zoë Müller" in mail.outbox[0].body
    assert TimelineEvent.objects.filter(kind="message_sent").count() == 1
    message_deliver(message.pk)
    assert len(mail.outbox) == 1


def test_a_message_names_the_promised_day_on_the_stores_calendar_never_a_clock_in_utc(scene):
    # Given a promise of 03:00 UTC on 20 Nov: the evening of the 19th at the Chicago pickup store
    promise = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    Order.objects.filter(pk=scene.web_order.pk).update(promised_by=promise)
    shipped = Order.objects.create(number="#1077", channel=Order.Channel.WEB, promised_by=promise)  # no store

    # Then the e-mail says the day as the customer's store counts it, and with no store the retailer's day
    assert message_context(Order.objects.get(pk=scene.web_order.pk))["promised"] == "Thursday 19 November 2026"
    assert message_context(shipped)["promised"] == "Friday 20 November 2026"  # TIME_ZONE: UTC in the tests
    assert message_context(shipped)["projected"] == "Friday 20 November 2026"  # nothing says otherwise yet


def test_a_message_the_mail_server_refuses_is_kept_as_failed_with_its_error_then_sent_on_retry(scene, monkeypatch):
    message = message_send(Flag.objects.get(pk=scene.late.pk))  # queued; delivery is the task's

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("SMTP at 127.0.0.1:25 refused the connection")

    monkeypatch.setattr("orders.flags.messaging.send_mail", refuse)
    with pytest.raises(ConnectionRefusedError):  # the task retries it
        message_deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.error) == ("failed", "SMTP at 127.0.0.1:25 refused the connection")

    monkeypatch.undo()
    assert message_deliver(message.pk).status == "sent" and len(mail.outbox) == 1


def test_the_message_carries_the_carriers_word(scene, django_capture_on_commit_callbacks):
    shipment = scene.web_order.shipments.get()
    TrackingEventFactory(shipment=shipment, occurred_at=timezone.now(), status="failure", message="Address not found")
    flag = Flag.objects.create(order=scene.web_order, code=Flag.Code.DELIVERY_EXCEPTION, detail="carrier failure")

    with django_capture_on_commit_callbacks(execute=True):
        message_send(flag)

    assert "(1Z999AA10123456784): Address not found" in mail.outbox[0].body


def test_no_message_without_a_template_an_address_or_an_open_flag(scene):
    with pytest.raises(CannotMessage, match="has no customer message"):
        message_send(scene.unassigned)
    Order.objects.filter(pk=scene.late.order_id).update(email="")  # the customer's own e-mail is not the order's
    scene.late.order.refresh_from_db()
    with pytest.raises(CannotMessage, match="no e-mail address"):
        message_send(scene.late)
    assert CustomerMessage.objects.count() == 0


def test_auto_send_only_where_a_supervisor_turned_it_on(scene, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_auto_send([scene.late.pk, scene.uptown_flag.pk]) == 0
        MessageTemplate.objects.filter(code="promise_missed").update(auto_send=True)
        assert messages_auto_send([scene.late.pk, scene.uptown_flag.pk]) == 1
        assert messages_auto_send([scene.late.pk, scene.uptown_flag.pk]) == 0

    assert [m.to for m in mail.outbox] == [["zoe.muller@example.com"]]


def test_a_supervisors_wording_is_used(scene, django_capture_on_commit_callbacks):
    MessageTemplate.objects.filter(code="promise_missed").update(subject="Sorry, {{ order_number }} is late")

    with django_capture_on_commit_callbacks(execute=True):
        message_send(scene.late)

    assert mail.outbox[0].subject == "Sorry, #1001 is late"


def test_a_flag_resolved_while_its_condition_holds_stays_closed_until_it_clears(scene):
    from orders.flags.actions import flag_resolve
    from orders.flags.detection import flags_apply
    from orders.flags.rules import Finding

    holds = {"payment_mismatch": {scene.web_order.pk: Finding("captured 100.00 of 129.50", {"captured": "100.00"})}}
    clear = {"payment_mismatch": {}}
    scope = [scene.web_order.pk]

    assert flags_apply(holds, scope=scope, now=timezone.now()).opened == 1
    flag_resolve(Flag.objects.get(code="payment_mismatch"), by=agent(), reason="refunded the difference by hand")
    assert flags_apply(holds, scope=scope, now=timezone.now()).opened == 0  # still holds: not reopened
    assert flags_apply(clear, scope=scope, now=timezone.now()).opened == 0  # cleared once
    assert flags_apply(holds, scope=scope, now=timezone.now()).opened == 1  # a new occurrence opens again

    flags = Flag.objects.filter(code="payment_mismatch").order_by("pk")
    assert [(f.resolution, f.closed_at is None) for f in flags] == [
        ("refunded the difference by hand", False),
        ("", True),
    ]


def test_detection_sends_automatic_messages_for_the_flags_it_opens(
    scene, monkeypatch, django_capture_on_commit_callbacks
):
    from orders.flags import detection
    from orders.flags.rules import Finding

    Flag.objects.all().delete()
    MessageTemplate.objects.filter(code="promise_missed").update(auto_send=True)
    fake = {code: (lambda ids, now, threshold: {}) for code in detection.RULES}
    fake["promise_missed"] = lambda ids, now, threshold: {scene.web_order.pk: Finding("promised 11-04", {})}
    monkeypatch.setattr(detection, "RULES", fake)

    with django_capture_on_commit_callbacks(execute=True):
        first = detection.detect([scene.web_order.pk])
        second = detection.detect([scene.web_order.pk])

    assert (first.opened, second.opened, second.still_open) == (1, 0, 1)
    assert [m.subject for m in mail.outbox] == ["Your order #1001 is late"]
    assert CustomerMessage.objects.get().sent_by is None


def test_tell_the_customer_shows_the_message_for_review_and_sends_only_on_confirm(agent_client, scene):
    # The web order's parcel is with UPS: it can no longer be cancelled
    review = reverse("message_review", args=[scene.late.pk])

    response = agent_client.get(review, {"next": "/worklist/"})

    html = response.content.decode()
    assert response.status_code == 200 and CustomerMessage.objects.count() == 0  # reading sends nothing
    assert '<dd id="message-subject">Your order #1001 is late</dd>' in html
    assert "reply to this message with any question." in html  # no offer to cancel a dispatched order
    assert "would rather cancel" not in html
    assert 'id="message-send"' in html

    agent_client.post(reverse("flag_action", args=[scene.late.pk, "message"]), {"next": "/worklist/"})
    assert CustomerMessage.objects.get().subject == "Your order #1001 is late"


def test_a_wording_that_does_not_fit_the_orders_state_is_refused(agent_client, scene):
    # A supervisor's text offers to cancel, but the parcel has left; another claims a trace nobody recorded
    MessageTemplate.objects.filter(code="promise_missed").update(body="Reply CANCEL to cancel {{ order_number }}.")
    MessageTemplate.objects.filter(code="stuck_shipment").update(body="We have asked {{ carrier }} to trace it.")

    html = agent_client.get(reverse("message_review", args=[scene.late.pk])).content.decode()
    assert "cannot be sent: the message offers to cancel, but the order can no longer be cancelled" in html
    assert 'id="message-send"' not in html
    with pytest.raises(CannotMessage, match="offers to cancel"):
        message_send(scene.late)
    stuck = Flag.objects.create(order=scene.web_order, code=Flag.Code.STUCK_SHIPMENT, detail="no scan for 50 h")
    with pytest.raises(CannotMessage, match="nobody recorded a trace"):
        message_send(stuck)
    assert CustomerMessage.objects.count() == 0

    # Once an agent takes the stuck parcel's flag (the trace is on someone), the claim is true
    Flag.objects.filter(pk=stuck.pk).update(owner=get_user(agent_client))
    assert message_send(Flag.objects.get(pk=stuck.pk)).body == "We have asked UPS to trace it."


def test_the_default_stuck_parcel_wording_claims_a_trace_only_once_one_is_recorded(scene):
    from orders.flags.messaging import message_preview

    stuck = Flag.objects.create(order=scene.web_order, code=Flag.Code.STUCK_SHIPMENT, detail="no scan for 50 h")
    assert "We are looking into it and will keep you posted." in message_preview(stuck)["body"]
    Note.objects.create(order=scene.web_order, customer=scene.zoe, body="Opened trace 4471 with UPS")
    assert "We have asked UPS to look into it and will keep you posted." in message_preview(stuck)["body"]
