"""Provider webhook bodies in the documented shapes (docs/webhooks.md), and helpers the webhook tests share.

``WebhookAuthSuite`` is the shared authentication suite; each provider's tests inherit it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import TestCase

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from crm.models import LeadActivity
from telephony.models import ProviderWebhookEvent

CK_SECRET = "ck-secret-0123456789"
AF_SECRET = "af-secret-9876543210"
LONG_TRANSCRIPT = " ".join(f"AI: line {i} about the 2BHK in Whitefield. User: hmm, tell me more." for i in range(1500))

CALL_ENDED: dict[str, Any] = {
    "event": "call_ended",
    "data": {
        "callSid": "6811c0de2a4b9e0012ab34cd",
        "name": "outbound-api",
        "agent": "6803fa770b666a64ab1694c1",
        "versionId": "6803fa770b666a64ab1694d0",
        "from": "918069000000",
        "to": "919812345678",
        "recordingUrl": "https://recordings.example.invalid/6811c0de2a4b9e0012ab34cd.mp3",
        "call_duration": 143,
        "time": "2026-11-20 11:42:07",
        "transcription": "AI: Namaste, am I speaking with Priya? User: Yes. AI: You enquired about a 2BHK ...",
        "batchId": "68433b7b0dee98e59245ebab",
        "hangup_reason": "CLIENT_INITIATED",
        "call_metadata": {"call_log_id": 42, "lead_id": 17, "name": "Priya Sharma"},
        "try_count": 0,
        "post_call": {"lead_status": "interested", "site_visit_day": "Saturday"},
        "post_call_detail": {"lead_status": {"value": "interested", "comment": "Asked for a site visit this weekend"}},
        "functions_called": [{"name": "book_site_visit", "success": True, "timestamp": "2026-11-20 11:44:01"}],
        "disposition_reason": "Interested, site visit requested",
        "conversion_status": True,
        "next_call_scheduled": False,
        "call_link": "https://callkaro.example.invalid/dashboard/call-history?call_id=6811c0de2a4b9e0012ab34cd",
    },
}

CALL_ENDED_NO_ANSWER: dict[str, Any] = {
    "event": "call_ended",
    "data": {
        "callSid": "6811c1ff2a4b9e0012ab3511",
        "name": "outbound",
        "agent": "6803fa770b666a64ab1694c1",
        "from": "918069000000",
        "to": "919898765432",
        "recordingUrl": "",
        "call_duration": 0,
        "time": "2026-11-20 11:50:31",
        "transcription": "",
        "batchId": "68433b7b0dee98e59245ebab",
        "hangup_reason": "USER_UNAVAILABLE",
        "call_metadata": {"call_log_id": 43, "lead_id": 18},
        "try_count": 1,
        "post_call": {},
        "post_call_detail": {},
        "functions_called": [],
        "disposition_reason": "",
        "conversion_status": False,
        "next_call_scheduled": True,
    },
}

SIMPLE_STATUS: dict[str, Any] = {"call_id": "6811c0de2a4b9e0012ab34cd", "status": "completed", "duration": 120}

ACEFONE_HANGUP: dict[str, Any] = {
    "event": "hangup",
    "call_id": "1714657799.11930963",
    "uuid": "5d7c2b1e-9a0f-4b8e-8f51-2f0e3c6a7d10",
    "direction": "outbound",
    "call_to_number": "919812345678",
    "caller_id_number": "918069000001",
    "answered_agent_number": "0602000004",
    "start_stamp": "2026-11-20 12:01:10",
    "answer_stamp": "2026-11-20 12:01:19",
    "end_stamp": "2026-11-20 12:04:02",
    "duration": "172",
    "billsec": "163",
    "call_status": "answered",
    "hangup_cause": "NORMAL_CLEARING",
    "recording_url": "https://recordings.example.invalid/1714657799.11930963.mp3",
    "custom_identifier": "acefone-log-77",
}


def call_ended(log_id: int | None, **data: Any) -> dict[str, Any]:
    """The real Call Karo envelope for our call log ``log_id``, with ``data`` fields overridden."""
    body = copy.deepcopy(CALL_ENDED)
    body["data"]["call_metadata"] = {"call_log_id": log_id, "lead_id": 1} if log_id is not None else {}
    body["data"].update(data)
    return body


def acefone_hangup(log_id: int | None, **fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(ACEFONE_HANGUP)
    if log_id is None:
        body.pop("custom_identifier")
    else:
        body["custom_identifier"] = f"acefone-log-{log_id}"
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def make_ck_log(lead, **fields: Any) -> CallKaroCallLog:
    fields.setdefault("status", "initiated")
    if fields["status"] == "completed":
        fields.setdefault("duration_seconds", 95)  # longer than a short call: its post-call values count
    fields.setdefault("to_number", str(lead.phone))
    return CallKaroCallLog.objects.create(lead=lead, **fields)


def make_af_log(lead, **fields: Any) -> AcefoneCallLog:
    fields.setdefault("status", "initiated")
    fields.setdefault("agent_number", "0602000004")
    fields.setdefault("to_number", str(lead.phone))
    return AcefoneCallLog.objects.create(lead=lead, **fields)


def post_json(
    client, url: str, payload: Any, *, token: str | None = None, header: bool = True, commit: bool = True, **extra
):
    """POST ``payload`` as JSON; the token goes in X-Webhook-Token (or ?token= when ``header`` is False).

    With ``commit`` (the default) what waits for the request's commit runs too, as in production:
    the apply task (inline, tasks run eagerly in tests) and then the call's follow-up.
    """
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    headers = dict(extra.pop("headers", {}))
    if token is not None and header:
        headers["X-Webhook-Token"] = token
    if token is not None and not header:
        url = f"{url}?token={token}"
    content_type = extra.pop("content_type", "application/json")
    if not commit:
        return client.post(url, data=body, content_type=content_type, headers=headers, **extra)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data=body, content_type=content_type, headers=headers, **extra)


class WebhookAuthSuite:
    """Authentication and cheap checks every provider webhook must pass. Subclasses set the fixtures."""

    url: str
    secret: str

    @pytest.fixture
    def good_body(self, lead) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def the_log(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _unchanged(self, log) -> bool:
        log_before = (log.status, log.duration_seconds, log.provider_call_id)
        log.refresh_from_db()
        return (log.status, log.duration_seconds, log.provider_call_id) == log_before

    def test_valid_token_in_header_applies(self, client, good_body, the_log, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_json(client, self.url, good_body, token=self.secret, commit=False)
        assert response.status_code == 200, response.content
        the_log.refresh_from_db()
        assert the_log.status == "completed"
        row = ProviderWebhookEvent.objects.get()
        assert row.is_authenticated and row.outcome == "applied" and row.call_log_id == the_log.pk

    def test_valid_token_in_query_applies_and_is_not_stored(self, client, good_body, the_log):
        response = post_json(client, self.url, good_body, token=self.secret, header=False)
        assert response.status_code == 200
        row = ProviderWebhookEvent.objects.get()
        assert self.secret not in json.dumps(row.headers) and self.secret not in row.body
        the_log.refresh_from_db()
        assert the_log.status == "completed"

    def test_header_secret_is_masked(self, client, good_body, the_log):
        post_json(client, self.url, good_body, token=self.secret, headers={"X-Other": f"x{self.secret}x"})
        row = ProviderWebhookEvent.objects.get()
        assert row.headers["X-Webhook-Token"] == "[masked]"
        assert self.secret not in json.dumps(row.headers)

    @pytest.mark.parametrize("token", [None, "", "wrong", "ck-secret", "x" * 500])
    def test_bad_or_missing_token_is_401_and_changes_nothing(self, client, good_body, the_log, token):
        response = post_json(client, self.url, good_body, token=token)
        assert response.status_code == 401
        assert self._unchanged(the_log)
        row = ProviderWebhookEvent.objects.get()
        assert (row.is_authenticated, row.outcome, row.dedup_key) == (False, "rejected", "")
        assert not LeadActivity.objects.filter(call_ref__contains=str(the_log.pk)).exists()

    def test_rotation_accepts_every_configured_secret(self, client, good_body, the_log, settings):
        self.add_second_secret(settings, "the-new-secret-42")
        assert post_json(client, self.url, good_body, token="the-new-secret-42").status_code == 200
        the_log.refresh_from_db()
        assert the_log.status == "completed"

    def test_no_secret_configured_refuses_everything(self, client, good_body, the_log, settings):
        self.clear_secrets(settings)
        assert post_json(client, self.url, good_body, token="").status_code == 401
        assert self._unchanged(the_log)

    def test_malformed_json_is_400(self, client, the_log):
        assert post_json(client, self.url, '{"event": "call_ended", ', token=self.secret).status_code == 400
        assert not ProviderWebhookEvent.objects.exists()

    def test_a_wrong_token_is_refused_before_the_body_is_parsed(self, client, the_log, monkeypatch):
        import telephony.webhooks as view_module

        parsed: list[bytes] = []
        real_loads = view_module.json.loads
        monkeypatch.setattr(view_module.json, "loads", lambda b, **kw: parsed.append(b) or real_loads(b, **kw))
        response = post_json(client, self.url, '{"event": "call_ended", ', token="wrong")
        assert (response.status_code, parsed) == (401, [])
        row = ProviderWebhookEvent.objects.get()
        assert (row.is_authenticated, row.outcome) == (False, "rejected")

    def test_not_json_content_type_is_415(self, client, good_body, the_log):
        response = post_json(client, self.url, good_body, token=self.secret, content_type="text/plain")
        assert response.status_code == 415
        assert self._unchanged(the_log)

    def test_body_over_the_cap_is_413(self, client, good_body, the_log, settings):
        settings.WEBHOOK_MAX_BYTES = 2000
        response = post_json(client, self.url, {**good_body, "pad": "x" * 3000}, token=self.secret)
        assert response.status_code == 413
        assert self._unchanged(the_log) and not ProviderWebhookEvent.objects.exists()

    def test_get_is_405(self, client, the_log):
        assert client.get(self.url).status_code == 405

    def test_recognisable_json_but_not_an_event_is_400(self, client, the_log):
        response = post_json(client, self.url, {"hello": "world"}, token=self.secret)
        assert response.status_code == 400
        assert self._unchanged(the_log)

    def test_no_login_and_no_csrf_needed(self, good_body, the_log):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        assert post_json(client, self.url, good_body, token=self.secret).status_code == 200

    def add_second_secret(self, settings, secret: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def clear_secrets(self, settings) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def final_receivers_only(monkeypatch: pytest.MonkeyPatch, *receivers: Any) -> None:
    """For one test, ``call_became_final`` reaches only ``receivers`` (none: the project's own are off)."""
    from telephony.signals import call_became_final

    monkeypatch.setattr(call_became_final, "receivers", [])
    monkeypatch.setattr(call_became_final, "sender_receivers_cache", {})
    for receiver in receivers:
        call_became_final.connect(receiver, weak=False)


def stored_outcome(response, index: int = 0) -> str:
    """The outcome of the ``index``-th event a webhook response stored (the response itself says ``pending``)."""
    return ProviderWebhookEvent.objects.get(pk=response.json()["events"][index]["id"]).outcome


def final_followups(callbacks: list) -> list:
    """The calls followed up by the captured on-commit callbacks (one call's, or a drain batch's)."""
    from telephony.events import call_final_process
    from telephony.final_calls import calls_final_process

    found: list = []
    for c in callbacks:
        if getattr(c, "func", None) is call_final_process:
            found.append((c.keywords["provider"], c.keywords["call_log_id"]))
        elif getattr(c, "func", None) is calls_final_process:
            found += list(dict.fromkeys(c.keywords["calls"]))
    return found
