"""The HTTP base every provider client builds on (the django-anymail shape).

It owns the session, the timeouts, the User-Agent, the retry policy and the mapping from
HTTP failures to our errors, so a provider client only builds payloads and reads answers.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import requests
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry

from crm.logging import redact, register_secret

from .errors import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable, TelephonyError

logger = logging.getLogger("telephony.http")

USER_AGENT = f"lead-crm-telephony/1.0 python-requests/{requests.__version__}"
#: Statuses that prove the provider did not take the request, so a retry cannot double-dial.
RETRY_STATUSES = (429, 503)


def _retry_policy() -> Retry:
    """Retries only where the provider provably did not accept the request.

    ``read=False`` re-raises a read error at once: a request that was sent and not answered
    may have been acted on, and re-sending it could dial the customer twice.
    """
    return Retry(
        total=None,
        connect=settings.TELEPHONY_HTTP_RETRIES,
        status=settings.TELEPHONY_HTTP_RETRIES,
        read=False,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET", "POST", "DELETE"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.TELEPHONY_HTTP_BACKOFF,
        backoff_max=5,
        # A long Retry-After must not hold a worker (or a rep's click): it is reported instead.
        respect_retry_after_header=False,
        raise_on_status=False,
    )


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        from django.utils import timezone

        try:
            return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            return None


def _never_reached_provider(exc: requests.ConnectionError) -> bool:
    """True when the connection was never established (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError | NameResolutionError)


#: (process id, provider, base URL) -> the process's session: connections kept alive between dials.
_sessions: dict[tuple[int, str, str], requests.Session] = {}
_last_used: dict[tuple[int, str, str], float] = {}
#: A connection idle this long is not reused. A server may close an idle keep-alive connection just as
#: we send on it, and a request lost that way reads as "sent, no answer" (outcome unknown, never
#: re-dialled); providers' load balancers keep idle connections 60 s or more, so reuse stays well inside.
KEEPALIVE_IDLE_SECONDS = 15.0
_sessions_lock = threading.Lock()


def _new_session(base_url: str) -> requests.Session:
    """A session whose environment (proxies, no_proxy, CA bundle) is read once, here, for ``base_url``:
    left to requests, it is read again on every request, a third of the HTTP client's CPU per dial."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=_retry_policy())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    found = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(found["proxies"])
    session.verify, session.cert = found["verify"], found["cert"]
    session.trust_env = False
    return session


def shared_session(provider: str, base_url: str) -> requests.Session:
    """This process's session for one provider's base URL, created on first use.

    Keyed by process id, so a forked worker never uses the connections of its parent (it makes its
    own on first use). It carries no credentials: each request sends its own headers, so a key saved
    on the config page applies to the next request. Connections idle longer than
    ``KEEPALIVE_IDLE_SECONDS`` are dropped first (see there).
    """
    key = (os.getpid(), provider, base_url)
    now = time.monotonic()
    with _sessions_lock:
        session = _sessions.get(key)
        if session is not None and now - _last_used.get(key, now) > KEEPALIVE_IDLE_SECONDS:
            session.close()  # its pooled connections only; the session itself stays usable
        if session is None:
            session = _sessions[key] = _new_session(base_url)
        _last_used[key] = now
    return session


def sessions_forget(**_: object) -> None:
    """Close and drop this process's sessions (tests; the retry settings changed)."""
    with _sessions_lock:
        mine = [s for (pid, *_rest), s in _sessions.items() if pid == os.getpid()]
        _sessions.clear()
        _last_used.clear()
    for session in mine:
        session.close()


def _forget_after_fork() -> None:
    _sessions.clear()  # the parent's: never closed from the child, whose copies just go away
    _last_used.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **_: object) -> None:
    if setting.startswith("TELEPHONY_HTTP_"):
        sessions_forget()


class ProviderHttpClient:
    """A provider's client over this process's shared session; subclasses set ``provider`` and ``auth_headers``."""

    provider: str = ""
    label: str = ""

    def __init__(self, *, base_url: str, timeout: tuple[float, float] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout or (settings.TELEPHONY_CONNECT_TIMEOUT, settings.TELEPHONY_READ_TIMEOUT)
        self.session = shared_session(self.provider, self.base_url)
        self.headers = self.auth_headers()
        for value in self.headers.values():
            register_secret(value)
            register_secret(value.removeprefix("Bearer ").strip())

    def close(self) -> None:
        """Nothing to release: the session stays open for this process's next request (keep-alive)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- hooks -------------------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        return {}

    def error_message(self, response: requests.Response) -> str:
        """The provider's own message from an error response, for the rep to read."""
        try:
            body = response.json()
        except ValueError:
            return response.text.strip()[:300] or response.reason or f"HTTP {response.status_code}"
        if isinstance(body, dict):
            for key in ("message", "detail", "error", "msg"):
                if body.get(key):
                    return str(body[key])
        return str(body)[:300]

    # --- the flow ----------------------------------------------------------------------------
    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> Any:
        """Send one request and return its decoded JSON body, or raise one of our errors."""
        url = f"{self.base_url}{path}"
        name = self.label or self.provider
        try:
            response = self.session.request(
                method, url, json=json, params=params, headers=self.headers, timeout=self.timeout
            )
        except requests.ConnectionError as exc:
            if _never_reached_provider(exc):
                logger.warning("%s %s %s: not reachable", self.provider, method, path)
                raise ProviderUnavailable(f"{name} could not be reached", provider=self.provider) from None
            # The connection dropped after the request went out: the provider may have acted.
            logger.warning("%s %s %s: connection lost after sending", self.provider, method, path)
            raise ProviderOutcomeUnknown(
                f"{name} dropped the connection after the request was sent", provider=self.provider
            ) from None
        except requests.Timeout:
            logger.warning("%s %s %s: no answer within %ss", self.provider, method, path, self.timeout[1])
            raise ProviderOutcomeUnknown(
                f"{name} did not answer within {self.timeout[1]:g}s; the call may still happen",
                provider=self.provider,
            ) from None
        except requests.RequestException as exc:
            raise ProviderUnavailable(
                redact(f"{name} request failed: {type(exc).__name__}"), provider=self.provider
            ) from None

        with response:
            body, error = self._read(response, method, path, name)
        # Raised with no frame holding the response, so a kept error cannot keep its socket open.
        del response
        if error is not None:
            raise error
        return body

    def _read(
        self, response: requests.Response, method: str, path: str, name: str
    ) -> tuple[Any, TelephonyError | None]:
        """The decoded body, or the error it stands for (returned, not raised)."""
        status = response.status_code
        logger.info(
            "%s %s %s -> %s in %.0f ms", self.provider, method, path, status, response.elapsed.total_seconds() * 1000
        )
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            detail = redact(self.error_message(response))
            return None, ProviderUnavailable(
                f"{name} is unavailable (HTTP {status}): {detail}",
                provider=self.provider,
                status_code=status,
                retry_after=retry_after,
            )
        if status >= 400:
            message = redact(self.error_message(response))
            return None, ProviderRejected(message, provider=self.provider, status_code=status)
        if not response.content:
            return {}, None
        try:
            return response.json(), None
        except ValueError:
            return None, ProviderOutcomeUnknown(
                f"{name} answered HTTP {status} with a body we cannot read", provider=self.provider, status_code=status
            )
