"""Acefone's call-answered and hang-up webhooks: the shared pipeline; secrets and parsing are the provider's.

Acefone's dashboard can post a webhook as JSON or as a form (``application/x-www-form-urlencoded``).
A form body is turned into the equivalent JSON object here, before the shared checks, so it is
stored, de-duplicated, re-parsed and applied exactly like a JSON one (docs/webhooks.md).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from telephony.webhooks import ProviderWebhookView

FORM_TYPE = "application/x-www-form-urlencoded"


def form_body_as_json(body: bytes) -> bytes:
    """``a=1&b=x`` -> ``{"a": "1", "b": "x"}`` (a repeated field keeps its last value)."""
    text = body.decode("utf-8", "replace")
    return json.dumps(dict(parse_qsl(text, keep_blank_values=True, max_num_fields=200))).encode()


class AcefoneWebhookView(ProviderWebhookView):
    provider = "acefone"

    def _read_body(self, request: HttpRequest) -> bytes | JsonResponse:
        if (request.content_type or "").lower() != FORM_TYPE:
            return super()._read_body(request)
        cap = getattr(settings, "WEBHOOK_MAX_BYTES", 1024 * 1024)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"status": "error", "message": "Bad Content-Length"}, status=400)
        body = request.read(cap + 1) if declared <= cap else b"x" * (cap + 1)
        if len(body) > cap:
            return JsonResponse({"status": "error", "message": f"Body over {cap} bytes"}, status=413)
        try:
            return form_body_as_json(body)
        except ValueError:
            return JsonResponse({"status": "error", "message": "Unreadable form body"}, status=400)
