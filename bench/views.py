"""Baseline endpoints for the webhook benchmark; mounted under ``bench.settings`` (or with DEBUG on).

They give the floor the real webhook is measured against, served by the same gunicorn in the
same run: a bare 200, and the least any durable webhook must do (parse the JSON, one indexed
``UPDATE`` of the call row). They check no secret: never enable them in production.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from callkaro.models import CallKaroCallLog


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
    updated = CallKaroCallLog.objects.filter(pk=int(data["call_metadata"]["call_log_id"])).update(
        status="completed",
        duration_seconds=int(data.get("call_duration") or 0),
        hangup_reason=str(data.get("hangup_reason") or "")[:40],
        updated_at=timezone.now(),
    )
    return JsonResponse({"status": "ok", "updated": updated})
