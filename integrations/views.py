"""Webhook receiver: verify, record, queue, answer — well under the vendors' 5 s."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Source
from .services import WebhookRejected, webhook_receive
from .tasks import process_webhook


@csrf_exempt  # vendors cannot send our CSRF token; the HMAC signature authenticates the body instead
@login_not_required
@require_POST
def webhook(request: HttpRequest, source_name: str) -> JsonResponse:
    source = Source.objects.filter(name=source_name, enabled=True).first()
    if source is None:
        raise Http404("no such source")
    try:
        delivery, is_new = webhook_receive(
            source=source,
            body=request.body,
            headers=request.headers,
            url=request.build_absolute_uri(),
        )
    except WebhookRejected as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    if is_new:
        # to the webhooks queue (settings.CELERY_TASK_ROUTES): their own worker keeps them fresh during backfills
        transaction.on_commit(lambda: process_webhook.delay(delivery.pk))
    return JsonResponse({"status": "accepted" if is_new else "duplicate", "event_id": delivery.event_id})
