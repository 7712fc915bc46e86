"""A stand-in webhook receiver for sandbox tests: records what the sandbox posted, nothing more."""

from __future__ import annotations

import json
import threading

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


class WebhookCapture(list):
    """A list of ``{"query", "body"}`` dicts, filled by :meth:`view` (live-server threads included)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.view = login_not_required(csrf_exempt(self._receive))

    def _receive(self, request: HttpRequest) -> HttpResponse:
        with self._lock:
            self.append({"query": request.GET.dict(), "body": json.loads(request.body)})
        return HttpResponse(status=200)
