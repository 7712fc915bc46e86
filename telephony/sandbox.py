"""Shared machinery of the provider sandboxes: request recording, fault injection, webhook posting.

The sandboxes are fakes of the providers' documented APIs for `make run` and end-to-end tests.
They are mounted only when PROVIDER_SANDBOX is on.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from crm.logging import MASK, redact

from .models import SandboxRequest

logger = logging.getLogger("telephony.sandbox")

SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie"})
#: ``latency_ms_max`` makes the latency uniform between the two; ``error_rate`` answers ``status`` to that
#: share of requests only (0.05: one in twenty), the others pass.
FAULT_KEYS = frozenset(
    {
        "latency_ms",
        "latency_ms_max",
        "error_rate",
        "only_path",
        "status",
        "retry_after",
        "timeout",
        "timeout_seconds",
        # Call Karo behaviours a naive client misses (callkaro/sandbox.py):
        "unknown_agent",  # every agent id answered 404 "Agent does not exist"
        "later_tries",  # N later-try reports (try_count 1..N) after a first try that did not connect
        "unsolicited_report",  # also a call_ended for a call nobody asked for
        "extra_events",  # call_started before, message_sent and template_sent after the call_ended
        "other_agent",  # the report names this agent as the one that spoke (a transfer)
        "outcome",  # force the first try's outcome (connected, no_answer, rejected, voicemail)
        "short_call",  # a 5-second connected call carrying the agent's default post-call values
    }
)


# --- faults ------------------------------------------------------------------------------------
def _faults_key(provider: str) -> str:
    return f"sandbox:faults:{provider}"


def sandbox_faults(provider: str) -> dict[str, Any]:
    """Faults in force: the settings', overridden by any set at runtime through the cache."""
    return {**getattr(settings, "SANDBOX_FAULTS", {}).get(provider, {}), **(cache.get(_faults_key(provider)) or {})}


def sandbox_faults_set(provider: str, **faults: Any) -> None:
    """Switch faults on at runtime, e.g. from a browser test against another server process."""
    unknown = set(faults) - FAULT_KEYS
    if unknown:
        raise ValueError(f"Unknown sandbox faults: {', '.join(sorted(unknown))}")
    cache.set(_faults_key(provider), faults, timeout=None)


def sandbox_faults_clear(provider: str) -> None:
    cache.delete(_faults_key(provider))


# --- outcomes and webhooks ---------------------------------------------------------------------
def pick_outcome(provider: str, rng: random.Random | None = None) -> str:
    weights = settings.SANDBOX_OUTCOME_WEIGHTS[provider]
    names = [name for name, weight in weights.items() if weight > 0]
    return (rng or random).choices(names, weights=[weights[n] for n in names])[0]


def send_twice() -> bool:
    """Call Karo posts each event twice when both account and agent webhooks are set."""
    return random.random() < settings.SANDBOX_DUPLICATE_RATE


def _post(url: str, payload: dict) -> int | None:
    try:
        response = requests.post(url, json=payload, timeout=(3.05, 10))
    except requests.RequestException as exc:
        logger.warning("sandbox webhook to %s failed: %s", redact(url), type(exc).__name__)
        return None
    logger.info("sandbox webhook to %s -> %s", redact(url), response.status_code)
    return response.status_code


def sandbox_webhooks_post(url: str, payloads: list[dict]) -> list[int | None]:
    """Post the simulated call's events back to the app, in order."""
    return [_post(url, payload) for payload in payloads]


def sandbox_webhook_url(provider: str) -> str:
    """The provider's own webhook URL, secret included (``TelephonyProvider.sandbox_webhook_url``)."""
    from .registry import get_provider

    return get_provider(provider).sandbox_webhook_url()


def sandbox_webhooks_deliver(provider: str, payloads: list[dict]) -> list[int | None]:
    """Post to the provider's webhook URL, built here and now: the secret never travels in a message."""
    return sandbox_webhooks_post(sandbox_webhook_url(provider), payloads)


def schedule_webhooks(provider: str, payloads: list[dict], *, delay: float | None = None) -> None:
    """Deliver after a short countdown (never a long ETA), as a Celery task.

    The task carries the provider's name, not the URL: the URL holds the webhook secret
    (``?token=``), which would otherwise sit in clear in the broker and the worker's logs.
    Where tasks run inline (tests), ``SANDBOX_WEBHOOK_DELIVERY = "thread"`` puts a timer thread
    in the queue's place: the API answer still goes out before the webhook, as with the real provider.
    ``"off"`` posts nothing (a benchmark that measures only our side of the call).
    """
    from .tasks import sandbox_webhook_send_task

    delay = settings.SANDBOX_WEBHOOK_DELAY if delay is None else delay
    if settings.SANDBOX_WEBHOOK_DELIVERY == "off":
        return
    if settings.SANDBOX_WEBHOOK_DELIVERY == "thread":
        timer = threading.Timer(delay, sandbox_webhooks_deliver, args=(provider, payloads))
        timer.daemon = True
        timer.start()
    else:
        sandbox_webhook_send_task.apply_async(args=(provider, payloads), countdown=delay)


# --- the view wrapper --------------------------------------------------------------------------
def masked_headers(request: HttpRequest) -> dict[str, str]:
    headers = {}
    for name, value in request.headers.items():
        headers[name] = MASK if name.lower() in SECRET_HEADERS else redact(value)
    return headers


def sandbox_endpoint(
    provider: str, *, methods: tuple[str, ...] = ("POST",), error: Callable[[int, str], JsonResponse]
) -> Callable:
    """Record the request, apply the provider's injected faults, then run the fake endpoint.

    The request is recorded before any fault, so a test can count what reached the provider.
    """

    def decorator(handler: Callable[[HttpRequest, Any], HttpResponse]) -> Callable:
        @csrf_exempt
        @login_not_required
        @functools.wraps(handler)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            body: Any = None
            if request.body:
                try:
                    body = json.loads(request.body)
                except ValueError:
                    body = {"_unparsed": request.body.decode("utf-8", "replace")[:2000]}
            record = SandboxRequest.objects.create(
                provider=provider,
                method=request.method,
                path=request.get_full_path()[:300],
                headers=masked_headers(request),
                body=body,
            )
            if request.method not in methods:
                response: HttpResponse = error(405, f"Method {request.method} not allowed")
            else:
                response = _apply_faults(provider, error, request.path) or handler(request, body, *args, **kwargs)
            SandboxRequest.objects.filter(pk=record.pk).update(response_status=response.status_code)
            return response

        return view

    return decorator


def _apply_faults(provider: str, error: Callable[[int, str], JsonResponse], path: str = "") -> HttpResponse | None:
    faults = sandbox_faults(provider)
    if faults.get("only_path") and faults["only_path"] not in path:
        return None  # the faults apply to one endpoint only (e.g. dials fail while campaigns are created)
    if faults.get("latency_ms"):
        low = float(faults["latency_ms"])
        time.sleep(random.uniform(low, max(low, float(faults.get("latency_ms_max") or low))) / 1000)  # noqa: S311
    if faults.get("timeout"):
        # Answer only after the client's read timeout: it must treat the call as "unknown".
        time.sleep(float(faults.get("timeout_seconds") or settings.TELEPHONY_READ_TIMEOUT + 1))
    status = int(faults.get("status") or 0)
    if status and faults.get("error_rate") is not None and random.random() >= float(faults["error_rate"]):  # noqa: S311
        status = 0
    if status:
        messages = {429: "Too many requests", 500: "Internal server error", 503: "Service unavailable"}
        response = error(status, messages.get(status, f"Simulated error {status}"))
        if status == 429 or faults.get("retry_after"):
            response["Retry-After"] = str(faults.get("retry_after", 1))
        return response
    return None
