"""Secrets leak scan: after a run through the UI and the webhooks with known credentials, none of
them is found in the database (bar the encrypted columns), the logs, any rendered page or any
Celery message.

The run: the admin saves the API key on the config page, tests the connection, generates a
webhook secret and sets a rep's Acefone number; the rep places AI and human calls (Call Karo's
and Acefone's HTTP APIs mocked with ``responses``, one of them answering 403 with the key in its
message); both providers post webhooks carrying their secret in the header or the query string.
"""

from __future__ import annotations

import json
import logging

import pytest
import responses
from celery.app.task import Task
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from acefone.models import AcefoneCallLog
from callkaro.config import get_effective_config
from callkaro.models import CallKaroAgent, CallKaroCallLog
from crm.models import Role
from crm.tests.factories import LeadFactory, make_member
from telephony.tests.webhook_samples import acefone_hangup, call_ended

from .test_url_walk import EXPECTED, ROLES, url_names

pytestmark = pytest.mark.django_db

API_KEY = "ck-live-CANARYKEY-5f0e2d9c8b7a61"
CK_WEBHOOK_SECRET = "ck-whsec-CANARYWH-0a1b2c3d4e5f"
AF_TOKEN = "af-token-CANARYAF-99887766554433"
AF_WEBHOOK_SECRET = "af-whsec-CANARYAFWH-1122334455"
CK_BASE, AF_BASE = "https://callkaro.leak.test", "https://acefone.leak.test"
#: Columns holding ciphertext on purpose: the only place a secret may live.
ENCRYPTED_COLUMNS = {"api_key_encrypted", "webhook_secrets_encrypted"}


@pytest.fixture
def run_settings(settings):
    settings.CALLKARO_API_KEY = ""
    settings.CALLKARO_BASE_URL = CK_BASE
    settings.CALLKARO_WEBHOOK_SECRET = CK_WEBHOOK_SECRET
    settings.ACEFONE_API_TOKEN = AF_TOKEN
    settings.ACEFONE_BASE_URL = AF_BASE
    settings.ACEFONE_WEBHOOK_SECRET = AF_WEBHOOK_SECRET
    settings.TELEPHONY_HTTP_RETRIES = 0
    settings.CALL_START_RATE_LIMIT = 100
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def provider_http():
    """Both providers' APIs. Call Karo refuses the second call with the key echoed in its message."""
    seen_keys: list[str] = []

    def outbound(request):
        seen_keys.append(request.headers.get("X-API-KEY", ""))
        body = json.loads(request.body or b"{}")
        if not body.get("to_number"):
            return 400, {}, json.dumps({"status": "error", "message": "to_number is required"})
        if body["to_number"].endswith("02"):
            return 403, {}, json.dumps({"status": "error", "message": f"Invalid API key {API_KEY} for this agent"})
        return 200, {}, json.dumps({"status": "done", "message": "Call queued", "call_sid": f"sid-{body['to_number']}"})

    def click_to_call(request):
        seen_keys.append(request.headers.get("Authorization", ""))
        return 200, {}, json.dumps({"success": True, "message": "Originate successfully queued"})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.POST, f"{CK_BASE}/call/outbound", callback=outbound)
        rsps.add_callback(responses.POST, f"{AF_BASE}/v1/click_to_call", callback=click_to_call)
        rsps.seen_keys = seen_keys
        yield rsps


@pytest.fixture
def celery_messages(monkeypatch):
    """Every task message sent (eager or not): its name, args, kwargs and options, as text."""
    sent: list[str] = []
    original = Task.apply_async

    def spy(self, args=None, kwargs=None, **options):
        sent.append(json.dumps([self.name, args, kwargs, {k: str(v) for k, v in options.items()}], default=str))
        return original(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", spy)
    return sent


def _client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def _db_dump() -> list[tuple[str, str, str]]:
    """(table, column, value) of every non-empty text value in every table, encrypted columns aside."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from introspection
            names = [d[0] for d in cursor.description]
            for record in cursor.fetchall():
                for name, value in zip(names, record, strict=True):
                    if name in ENCRYPTED_COLUMNS or value in (None, ""):
                        continue
                    text = (
                        bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | memoryview) else str(value)
                    )
                    rows.append((table, name, text))
    return rows


def _found(haystack: str) -> list[str]:
    secrets = [API_KEY, CK_WEBHOOK_SECRET, AF_TOKEN, AF_WEBHOOK_SECRET, *_generated]
    return [s for s in secrets if s in haystack]


_generated: list[str] = []


def test_no_secret_is_found_anywhere_after_a_full_run(
    run_settings, provider_http, celery_messages, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    _generated.clear()
    members = {role: make_member(role, username=f"leak-{role}") for role in ROLES}
    rep, admin = members[Role.REP], members[Role.ADMIN]
    admin_client, rep_client = _client(admin), _client(rep)
    pages: list[tuple[str, str]] = []

    def keep(label: str, response) -> None:
        assert response.status_code < 500, (label, response.status_code)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        pages.append((label, content.decode("utf-8", "replace")))

    with django_capture_on_commit_callbacks(execute=True):
        # The admin configures calling through the page.
        CallKaroAgent.objects.create(agent_id="agent-leak", name="Leak")
        form = {"api_key": API_KEY, "default_agent_id": "agent-leak", "time_zone": "Asia/Kolkata", "is_enabled": "on"}
        keep("save config", admin_client.post(reverse("callkaro:save_config"), form, follow=True))
        assert get_effective_config().api_key == API_KEY
        keep("test connection", admin_client.post(reverse("callkaro:test_connection"), follow=True))
        generated = admin_client.post(reverse("callkaro:generate_webhook_secret"))
        _generated.append(get_effective_config().webhook_secrets[0])
        assert _generated[0] in generated.content.decode()  # shown once, by design, on this one response only
        number_url = reverse("acefone:set_agent_number", kwargs={"member_id": rep.pk})
        keep("acefone number", admin_client.post(number_url, {"acefone_agent_number": "0602000004"}, follow=True))

        # The rep calls: one accepted, one refused with the key in Call Karo's message, one human call.
        leads = [LeadFactory(assigned_to=rep, phone=f"+9198765000{i:02d}") for i in (1, 2, 3)]
        for lead in leads[:2]:
            keep(f"AI call {lead.pk}", rep_client.post(reverse("callkaro:initiate_call"), {"lead_id": lead.pk}))
        keep("human call", rep_client.post(reverse("acefone:initiate_call"), {"lead_id": leads[2].pk}))
        ok_call = CallKaroCallLog.objects.get(lead=leads[0])
        assert ok_call.status == "initiated"
        assert CallKaroCallLog.objects.get(lead=leads[1]).status == "failed"

        # The providers post their webhooks: the secret in the query string and in the header.
        anon = Client()
        body = json.dumps(call_ended(ok_call.pk, callSid=f"sid-{ok_call.to_number}"))
        for secret in (CK_WEBHOOK_SECRET, _generated[0]):
            url = f"{reverse('callkaro:webhook')}?token={secret}&x=1"
            keep("ck webhook", anon.post(url, body, content_type="application/json"))
        keep("ck webhook header", anon.post(reverse("callkaro:webhook"), body, content_type="application/json",
                                            headers={"X-Webhook-Token": CK_WEBHOOK_SECRET}))  # fmt: skip
        keep("ck webhook refused", anon.post(f"{reverse('callkaro:webhook')}?token={API_KEY}", body,
                                             content_type="application/json"))  # fmt: skip
        af_log = AcefoneCallLog.objects.get(lead=leads[2])
        af_body = json.dumps(acefone_hangup(af_log.pk, custom_identifier=str(af_log.pk)))
        af_headers = {"X-Webhook-Token": AF_WEBHOOK_SECRET, "Authorization": f"Bearer {AF_TOKEN}"}
        keep("af webhook", anon.post(reverse("acefone:webhook"), af_body, content_type="application/json",
                                     headers=af_headers))  # fmt: skip
    ok_call.refresh_from_db()
    assert ok_call.status == "completed"

    # The credentials really were in use (so their absence below means something).
    assert API_KEY in provider_http.seen_keys and f"Bearer {AF_TOKEN}" in provider_http.seen_keys

    # Every page, as every role.
    args = {
        "none": {},
        "other_lead": {"lead_id": leads[0].pk},
        "other_member": {"member_id": rep.pk},
        "agent": {"pk": CallKaroAgent.objects.get().pk},
        "manager_campaign": None,
        "manager_campaign_pause": None,
    }
    for role, member in members.items():
        client = _client(member)
        for name in url_names():
            spec = EXPECTED[name]
            if spec.public or args.get(spec.args, None) is None or (spec.post and not spec.get_ok):
                continue
            keep(f"{role} {name}", client.get(reverse(name, kwargs=args[spec.args])))
        for lead in leads:
            keep(f"{role} history", client.get(reverse("crm:call_history", kwargs={"lead_id": lead.pk})))
            keep(f"{role} options", client.get(reverse("callkaro:call_options"), {"lead": lead.pk}))

    leaks = [f"page {label}: {_found(text)}" for label, text in pages if _found(text)]
    leaks += [f"db {table}.{column}: {_found(text)}" for table, column, text in _db_dump() if _found(text)]
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        if _found(text):
            leaks.append(f"log {record.name}: {_found(text)}: {text[:200]}")
    leaks += [f"celery message: {_found(m)}" for m in celery_messages if _found(m)]
    assert len(pages) > 40 and celery_messages
    assert leaks == []


def test_the_scan_can_fail():
    """The helpers find a planted secret: the scan above is not vacuous."""
    assert _found(f"x{API_KEY}y") == [API_KEY]


def test_the_db_dump_sees_every_table(lead):
    dump = _db_dump()
    assert {"crm_lead", "auth_user"} <= {table for table, _, _ in dump}
    assert not {column for _, column, _ in dump} & ENCRYPTED_COLUMNS
