"""``/meta-leads-webhook/``: Meta's subscription check (GET) and signed lead deliveries (POST).

Cheap checks first (size), then the signature over the raw bytes, then one INSERT per lead id.
A bad signature leaves only a truncated record: no lead, no Graph call, nothing trusted.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from telephony.webhook_guard import rejected_count, rejected_wait, request_ip, retry_after

from .config import get_effective_config
from .models import MetaWebhookRejection
from .services import deliveries_store
from .webhooks import SIGNATURE_HEADER, DeliveryError, leadgen_changes, signature_problem, verification_answer

logger = logging.getLogger("metaleads.webhook")
REJECTED_PREFIX = 256


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": "error", "message": message}, status=status)


def _remote_addr(request: HttpRequest) -> str | None:
    return request_ip(request)


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class MetaLeadsWebhookView(View):
    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        challenge = verification_answer(request.GET.dict(), get_effective_config().verify_token)
        if challenge is None:
            return HttpResponse("Verification token mismatch", status=403, content_type="text/plain")
        return HttpResponse(challenge, content_type="text/plain")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = rejected_wait("meta", _remote_addr(request))
        if wait is not None:  # rejected too often: answered before anything is read or written
            return retry_after(_error(429, f"Too many rejected requests; retry in {wait} s"), wait)
        cap = getattr(settings, "WEBHOOK_MAX_BYTES", 1024 * 1024)
        try:
            if int(request.META.get("CONTENT_LENGTH") or 0) > cap:
                return _error(413, f"Body over {cap} bytes")
            body = request.read(cap + 1)
        except (ValueError, OSError):
            return _error(400, "Unreadable body")
        if len(body) > cap:
            return _error(413, f"Body over {cap} bytes")
        problem = signature_problem(body, request.headers.get(SIGNATURE_HEADER), get_effective_config().app_secret)
        if problem is not None:
            return self._reject(request, body, problem)
        try:
            changes = leadgen_changes(body)
        except DeliveryError as exc:
            return _error(400, str(exc))
        try:
            stored, duplicates = deliveries_store(changes=changes)
        except Exception:  # noqa: BLE001 - never a 500: Meta retries, and a 503 says so
            logger.exception("Meta delivery could not be stored")
            return _error(503, "Could not store the delivery; please retry")
        return JsonResponse({"status": "ok", "stored": stored, "duplicates": duplicates})

    def _reject(self, request: HttpRequest, body: bytes, reason: str) -> HttpResponse:
        rejected_count("meta", _remote_addr(request))
        try:
            MetaWebhookRejection.objects.create(
                remote_addr=_remote_addr(request),
                reason=reason,
                body_prefix=body[:REJECTED_PREFIX].decode("utf-8", "replace").replace("\x00", ""),
                body_length=len(body),
            )
        except Exception:  # noqa: BLE001 - the answer is 403 whether or not the record was kept
            logger.exception("Could not record a rejected Meta delivery")
        logger.warning("Refused a Meta delivery from %s: %s", _remote_addr(request), reason)
        return _error(403, "Invalid signature")
