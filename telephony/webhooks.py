"""The one webhook view both providers use: cheap checks, authentication, store, de-duplicate, apply.

Order of work (dj-stripe/anymail style): method, content type and size are checked before any
database work; then the shared secret (a wrong one is refused before the body is parsed); then the
JSON; then the raw event is stored with its de-duplication
key and its normalised event (one INSERT; the unique index turns a concurrent copy into a 200
``duplicate``) and answered 200. The body is parsed here, once; after commit the request kicks the
batch drain (``telephony.drain``) unless one is already queued or running, and the drain applies the
stored events (row lock, forward-only update), then runs each lead follow-up once its batch commits.
A lost drain leaves the rows ``pending`` for the periodic re-match, and a failure
while applying is recorded on the stored row for ``reprocess_webhooks``.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from .base import CallEvent
from .drain import webhook_drain_kick_later
from .event_json import event_to_json
from .models import ProviderWebhookEvent
from .payload import WebhookPayloadError
from .registry import get_provider
from .selectors import QUERY_TOKEN_MARK
from .webhook_guard import REJECTED_BODY_LIMIT, rejected_count, rejected_headers, rejected_wait, request_ip, retry_after

logger = logging.getLogger(__name__)
Outcome = ProviderWebhookEvent.Outcome

TOKEN_PARAM = "token"
TOKEN_HEADER = "X-Webhook-Token"
MASK = "[masked]"
#: Headers whose values are credentials, whatever they hold.
SECRET_HEADERS = {"x-webhook-token", "authorization", "proxy-authorization", "cookie", "x-api-key"}


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": "error", "message": message}, status=status)


def _clean(text: str) -> str:
    return text.replace("\x00", "")


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class ProviderWebhookView(View):
    """Subclasses set ``provider``; secrets and parsing are members of its provider class."""

    provider: ClassVar[str]
    http_method_names = ["post"]

    def get_secrets(self) -> list[str]:
        """Every secret accepted now (several while one is being rotated)."""
        return get_provider(self.provider).webhook_secrets()

    def parse_events(self, payload: Any) -> list[CallEvent]:
        return get_provider(self.provider).parse_webhook(payload)

    # --- cheap checks --------------------------------------------------------------
    def _read_body(self, request: HttpRequest) -> bytes | JsonResponse:
        content_type = (request.content_type or "").lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            return _error(415, "Send Content-Type: application/json")
        cap = getattr(settings, "WEBHOOK_MAX_BYTES", 1024 * 1024)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "Bad Content-Length")
        if declared > cap:
            return _error(413, f"Body over {cap} bytes")
        try:
            body = request.read(cap + 1)
        except Exception:  # noqa: BLE001 - a broken stream is the sender's problem
            return _error(400, "Unreadable body")
        if len(body) > cap:
            return _error(413, f"Body over {cap} bytes")
        return body

    # --- authentication --------------------------------------------------------------
    def _token(self, request: HttpRequest) -> str:
        return request.headers.get(TOKEN_HEADER) or request.GET.get(TOKEN_PARAM) or ""

    def _secrets(self) -> list[str]:
        """The secrets, read once per request; an unreadable configuration lets nobody in."""
        if not hasattr(self, "_secret_cache"):
            try:
                self._secret_cache = [s for s in self.get_secrets() if s]
            except Exception:  # noqa: BLE001
                logger.exception("Could not read the %s webhook secrets", self.provider)
                self._secret_cache = []
        return self._secret_cache

    def _is_authentic(self, token: str) -> bool:
        secrets = self._secrets()
        if not secrets:
            logger.warning("No %s webhook token is configured: every request is refused", self.provider)
        supplied = token.encode("utf-8", "surrogatepass")
        # Compare against every secret (no early exit), each in constant time.
        results = [hmac.compare_digest(supplied, s.encode("utf-8", "surrogatepass")) for s in secrets]
        return bool(token) and any(results)

    def _masked_headers(self, request: HttpRequest, token: str) -> dict[str, str]:
        hidden = sorted({v for v in (token, *self._secrets()) if v}, key=len, reverse=True)
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            value = _clean(str(value))
            if name.lower() in SECRET_HEADERS:
                value = MASK
            for secret in hidden:
                value = value.replace(secret, MASK)
            headers[_clean(name)] = value
        query = [(k, v) for k, values in request.GET.lists() if k != TOKEN_PARAM for v in values]
        if query:
            text = urlencode(query)
            for secret in hidden:
                text = text.replace(secret, MASK)
            headers["query_string"] = _clean(text)
        if request.GET.get(TOKEN_PARAM) and not request.headers.get(TOKEN_HEADER):
            headers[QUERY_TOKEN_MARK] = "query"  # the config page warns: the secret is in access logs
        return headers

    # --- the flow ---------------------------------------------------------------------
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return self._handle(request)
        except Exception:  # noqa: BLE001 - never a 500: the provider would retry into the same bug
            logger.exception("%s webhook could not be stored", self.provider)
            return _error(503, "Could not store the event; please retry")

    def _handle(self, request: HttpRequest) -> JsonResponse:
        remote_addr = request_ip(request)
        wait = rejected_wait("telephony", remote_addr)
        if wait is not None:  # rejected too often: answered before anything is read or written
            return retry_after(_error(429, f"Too many rejected requests; retry in {wait} s"), wait)
        body = self._read_body(request)
        if isinstance(body, JsonResponse):
            return body
        token = self._token(request)
        if not self._is_authentic(token):
            rejected_count("telephony", remote_addr)
            ProviderWebhookEvent.objects.create(
                provider=self.provider,
                remote_addr=remote_addr,
                headers=rejected_headers(request),
                body=_clean(body[:REJECTED_BODY_LIMIT].decode("utf-8", "replace")),
                is_authenticated=False,
                outcome=Outcome.REJECTED,
            )
            logger.warning("Refused a %s webhook from %s: missing or invalid token", self.provider, remote_addr)
            return _error(401, "Missing or invalid webhook token")
        # Only an authenticated body is parsed: a stranger's costs no JSON parse (nor its nesting depth).
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return _error(400, "Body is not valid JSON")
        try:
            text = _clean(body.decode(json.detect_encoding(body), "replace"))
        except LookupError:
            text = _clean(body.decode("utf-8", "replace"))
        stored = {
            "provider": self.provider,
            "remote_addr": remote_addr,
            "headers": self._masked_headers(request, token),
        }
        try:
            events = self.parse_events(payload)
        except (WebhookPayloadError, RecursionError, ValueError, TypeError, ArithmeticError) as exc:
            # A value the parser cannot use: resending the same body cannot help, so 400, never 503.
            ProviderWebhookEvent.objects.create(
                **stored,
                body=text,
                is_authenticated=True,
                outcome=Outcome.FAILED,
                error=_clean(f"Unrecognised payload: {exc}")[:2000],
                processed_at=timezone.now(),
            )
            return _error(400, str(exc))
        results = [self._store_and_apply(event, stored, text) for event in events]
        return JsonResponse({"status": "ok", "events": results})

    def _store_and_apply(self, event: CallEvent, stored: dict[str, Any], text: str) -> dict[str, Any]:
        fields = {
            **stored,
            "body": text,
            "event": event_to_json(event),
            "is_authenticated": True,
            "call_log_id": event.call_log_id,
            "provider_call_id": event.provider_call_id[:100],
        }
        try:
            row = _insert(fields, dedup_key=event.dedup_key[:200])
        except IntegrityError:
            # The same event was stored already (a copy, a retry, or a concurrent delivery).
            row = ProviderWebhookEvent.objects.create(
                **fields, dedup_key="", outcome=Outcome.DUPLICATE, processed_at=timezone.now()
            )
            return {"id": row.pk, "outcome": Outcome.DUPLICATE}
        try:
            outcome = webhook_drain_kick_later(webhook_event=row)
        except Exception:  # noqa: BLE001 - stored and pending: the periodic task applies it
            logger.exception("Could not kick the drain for %s event %s; it stays pending", self.provider, row.pk)
            outcome = Outcome.PENDING
        return {"id": row.pk, "outcome": outcome}


def _insert(fields: dict[str, Any], *, dedup_key: str) -> ProviderWebhookEvent:
    """One INSERT, durable on return; the unique index on the key refuses a copy with IntegrityError.

    In autocommit (every production request) the statement commits by itself: no BEGIN/COMMIT round
    trips. Inside a transaction (ATOMIC_REQUESTS, tests) a savepoint keeps that transaction usable.
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            return ProviderWebhookEvent.objects.create(**fields, dedup_key=dedup_key)
    return ProviderWebhookEvent.objects.create(**fields, dedup_key=dedup_key)
