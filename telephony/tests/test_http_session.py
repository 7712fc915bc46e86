"""One HTTP session per worker process and provider: the connection is kept alive across dials."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from telephony import http
from telephony.services import call_dispatch, call_place
from telephony.status import CallStatus


class _Provider(BaseHTTPRequestHandler):
    """Answers every POST like Call Karo; counts the TCP connections it was given."""

    protocol_version = "HTTP/1.1"  # keep-alive
    connections = 0
    requests: list[str] = []

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).requests.append(self.headers.get("X-API-KEY", ""))
        body = json.dumps({"status": "done", "message": "queued", "call_sid": f"sid-{len(self.requests)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def provider_server(settings):
    _Provider.connections, _Provider.requests = 0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CALLKARO_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    settings.CALLKARO_API_KEY = "sk-callkaro-keepalive-1234"
    settings.CALLKARO_DEFAULT_AGENT_ID = "default-agent"
    http.sessions_forget()
    cache.clear()
    yield server
    http.sessions_forget()
    server.shutdown()
    server.server_close()


def _queued(lead, rep):
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=False):
        return call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async").call_log


@pytest.mark.django_db
def test_one_worker_process_reuses_one_session_and_connection_across_dials(provider_server, rep):
    from crm.tests.factories import LeadFactory

    logs = [_queued(LeadFactory(assigned_to=rep), rep) for _ in range(3)]
    for log in logs:
        assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.INITIATED
    assert len(_Provider.requests) == 3
    assert _Provider.connections == 1  # kept alive: one TCP connection for three dials
    assert _Provider.requests == ["sk-callkaro-keepalive-1234"] * 3  # credentials sent with each request


def test_the_session_is_per_provider_and_per_process(monkeypatch):
    http.sessions_forget()
    first = http.shared_session("callkaro", "https://ck.test")
    assert http.shared_session("callkaro", "https://ck.test") is first
    assert http.shared_session("acefone", "https://ace.test") is not first
    monkeypatch.setattr(http.os, "getpid", lambda: -1)  # a forked child: never its parent's connections
    assert http.shared_session("callkaro", "https://ck.test") is not first
    http.sessions_forget()


def test_a_new_key_applies_to_the_next_request_on_the_same_session():
    from callkaro.client import CallKaroClient

    old = CallKaroClient(api_key="key-old-1234", base_url="https://ck.test")
    new = CallKaroClient(api_key="key-new-5678", base_url="https://ck.test")
    assert old.session is new.session
    assert "X-API-KEY" not in new.session.headers
    assert new.headers["X-API-KEY"] == "key-new-5678"


def test_connections_idle_too_long_are_not_reused(monkeypatch):
    """A server may close an idle connection as we send on it (outcome unknown): idle ones are dropped."""
    http.sessions_forget()
    clock = [1000.0]
    monkeypatch.setattr(http.time, "monotonic", lambda: clock[0])
    session = http.shared_session("callkaro", "https://ck.test")
    closed = []
    monkeypatch.setattr(session, "close", lambda: closed.append(True))
    clock[0] += http.KEEPALIVE_IDLE_SECONDS - 1
    assert http.shared_session("callkaro", "https://ck.test") is session and not closed
    clock[0] += http.KEEPALIVE_IDLE_SECONDS + 1
    assert http.shared_session("callkaro", "https://ck.test") is session and closed == [True]
    monkeypatch.undo()
    http.sessions_forget()


def test_the_environment_is_read_once_when_the_session_is_made(monkeypatch):
    """Proxies and the CA bundle come from the environment as requests would find them, but once."""
    http.sessions_forget()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "skip.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    try:
        via_proxy = http.shared_session("callkaro", "https://api.callkaro.example")
        direct = http.shared_session("acefone", "https://skip.example")
        assert via_proxy.proxies.get("https") == "http://proxy.internal:3128"
        assert "https" not in direct.proxies  # no_proxy honoured, as requests does
        assert via_proxy.verify == "/etc/ssl/certs/ca-certificates.crt"
        assert via_proxy.trust_env is False  # not read again on every request
        monkeypatch.setenv("HTTPS_PROXY", "http://other:1")
        assert http.shared_session("callkaro", "https://api.callkaro.example").proxies["https"].endswith(":3128")
    finally:
        http.sessions_forget()
