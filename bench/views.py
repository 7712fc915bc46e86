"""Baseline endpoints for the webhook benchmark; mounted under ``bench.settings`` (or with DEBUG on).

They give the floor the real webhook is measured against, served by the same gunicorn in the
same run: a bare 200, the least any webhook that updates the call must do (parse the JSON, one
indexed ``UPDATE`` of the call row), and the least a webhook that first stores what it received
must do, applied in the request with no worker: parse, one INSERT into the real inbox table, one
UPDATE. They check no secret: never enable them in production.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from callkaro.models import CallKaroCallLog
from telephony.models import ProviderWebhookEvent


@csrf_exempt
@login_not_required
@require_POST
def bare(request: HttpRequest) -> HttpResponse:
    """Baseline 1: the server, Django's middleware and routing, nothing else."""
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
@login_not_required
@require_POST
def minimal_update(request: HttpRequest) -> JsonResponse:
    """Baseline 2: parse a ``call_ended`` body and update the call row by primary key, one statement."""
    data = json.loads(request.body)["data"]
    return JsonResponse({"status": "ok", "updated": _update(data)})


def _update(data: dict) -> int:
    return CallKaroCallLog.objects.filter(pk=int(data["call_metadata"]["call_log_id"])).update(
        status="completed",
        duration_seconds=int(data.get("call_duration") or 0),
        hangup_reason=str(data.get("hangup_reason") or "")[:40],
        updated_at=timezone.now(),
    )


@csrf_exempt
@login_not_required
@require_POST
def minimal_store_apply(request: HttpRequest) -> JsonResponse:
    """Baseline 3: parse, store the body in the inbox table (one INSERT, its indexes), then the UPDATE."""
    body = request.body
    data = json.loads(body)["data"]
    ProviderWebhookEvent.objects.create(
        provider="callkaro",
        body=body.decode(),
        event=data,
        is_authenticated=True,
        outcome=ProviderWebhookEvent.Outcome.APPLIED,
        call_log_id=int(data["call_metadata"]["call_log_id"]),
        provider_call_id=str(data.get("callSid") or "")[:100],
        processed_at=timezone.now(),
    )
    return JsonResponse({"status": "ok", "updated": _update(data)})
