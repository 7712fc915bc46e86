"""The Call Karo settings page: secrets encrypted at rest and never shown, admin only, CSRF on."""

from __future__ import annotations

import json
import logging

import pytest
import responses
from django.db import connection
from django.test import Client
from django.urls import reverse

from callkaro import services
from callkaro.config import get_effective_config
from callkaro.models import CallKaroAgent, CallKaroConfig
from crm import crypto

pytestmark = pytest.mark.django_db

KEY = "ck-live-PLAINTEXT-key-3f9a"
BASE = "https://api.callkaro.test"


@pytest.fixture(autouse=True)
def _env(settings):
    settings.CALLKARO_API_KEY = ""
    settings.CALLKARO_DEFAULT_AGENT_ID = ""
    settings.CALLKARO_WEBHOOK_SECRET = ""
    settings.CALLKARO_BASE_URL = BASE
    settings.ACEFONE_API_TOKEN = ""
    settings.SITE_URL = "https://crm.example.com"
    settings.TELEPHONY_HTTP_BACKOFF = 0


def save(client, **data):
    form = {"api_key": "", "default_agent_id": "", "time_zone": "Asia/Kolkata", "is_enabled": "on", **data}
    return client.post(reverse("callkaro:save_config"), form)


def raw_config_row() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {CallKaroConfig._meta.db_table}")  # noqa: S608 - our own table name
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == 1
    return dict(zip(columns, rows[0], strict=True))


def test_the_key_is_stored_encrypted_the_raw_column_holds_no_plaintext(admin_client_member):
    resp = save(admin_client_member, api_key=KEY, default_agent_id="agent-1")
    assert resp.status_code == 302
    raw = raw_config_row()
    assert all(KEY not in str(value) for value in raw.values())
    assert raw["api_key_encrypted"] and raw["api_key_last4"] == "3f9a"
    assert crypto.decrypt(raw["api_key_encrypted"]) == KEY
    assert get_effective_config().api_key == KEY


def test_the_key_is_never_rendered_only_its_mask(admin_client_member):
    save(admin_client_member, api_key=KEY)
    page = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert KEY not in page
    assert "••••3f9a" in page
    row = CallKaroConfig.objects.get()
    assert row.api_key_encrypted not in page  # not even the ciphertext
    # The password field never echoes a value back, even after a failed submit.
    failed = save(admin_client_member, api_key=KEY + "x", time_zone="Mars/Olympus").content.decode()
    assert KEY not in failed


def test_the_key_is_never_shown_in_the_django_admin(admin_client_member):
    save(admin_client_member, api_key=KEY)
    row = CallKaroConfig.objects.get()
    changelist = admin_client_member.get(reverse("admin:callkaro_callkaroconfig_changelist"))
    change = admin_client_member.get(reverse("admin:callkaro_callkaroconfig_change", args=[row.pk]))
    assert changelist.status_code == change.status_code == 200
    for page in (changelist.content.decode(), change.content.decode()):
        assert KEY not in page
        assert row.api_key_encrypted not in page
        assert row.webhook_secrets_encrypted == "" or row.webhook_secrets_encrypted not in page
        assert "••••3f9a" in page
    assert 'name="api_key_encrypted"' not in change.content.decode()


def test_the_key_never_reaches_a_log(admin_client_member, caplog):
    caplog.set_level(logging.DEBUG)
    save(admin_client_member, api_key=KEY)
    admin_client_member.get(reverse("callkaro:config"))
    assert caplog.records, "saving should log that the settings changed"
    assert KEY not in caplog.text


def test_a_blank_key_keeps_the_saved_one_and_other_fields_still_save(admin_client_member):
    save(admin_client_member, api_key=KEY)
    token = CallKaroConfig.objects.get().api_key_encrypted
    save(admin_client_member, api_key="", default_agent_id="agent-2", time_zone="Asia/Dubai")
    row = CallKaroConfig.objects.get()
    assert row.api_key_encrypted == token
    assert (row.default_agent_id, row.time_zone) == ("agent-2", "Asia/Dubai")
    assert get_effective_config().api_key == KEY


def test_the_saved_key_can_be_removed_to_fall_back_to_the_environment(admin_client_member, settings):
    settings.CALLKARO_API_KEY = "env-key-0000"
    save(admin_client_member, api_key=KEY)
    assert get_effective_config().api_key == KEY
    save(admin_client_member, clear_api_key="on")
    assert get_effective_config().api_key == "env-key-0000"
    page = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert "••••0000" in page and "environment" in page and "env-key-0000" not in page


def test_the_environment_gives_initial_values_and_a_saved_value_wins(admin_client_member, settings):
    settings.CALLKARO_DEFAULT_AGENT_ID = "env-agent"
    assert get_effective_config().default_agent_id == "env-agent"
    page = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert 'placeholder="env-agent"' in page  # shown, but not copied into the form's value
    save(admin_client_member, default_agent_id="saved-agent")
    assert get_effective_config().default_agent_id == "saved-agent"


def test_validation_errors_are_shown_and_nothing_is_saved(admin_client_member):
    resp = save(admin_client_member, api_key=KEY, time_zone="Mars/Olympus", default_agent_id="bad id!")
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "Unknown time zone" in body and "agent id exactly" in body
    assert not CallKaroConfig.objects.exists()


def test_rotating_field_encryption_keys_keeps_the_saved_key_readable(admin_client_member, settings):
    save(admin_client_member, api_key=KEY)
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEYS]
    assert get_effective_config().api_key == KEY
    assert "••••3f9a" in admin_client_member.get(reverse("callkaro:config")).content.decode()


def test_a_config_encrypted_with_a_lost_key_raises_instead_of_using_ciphertext(admin_client_member, settings):
    save(admin_client_member, api_key=KEY)
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError):
        get_effective_config()


# --- webhook secret -------------------------------------------------------------------------
def test_generating_a_secret_shows_the_full_url_once_then_only_a_mask(admin_client_member):
    resp = admin_client_member.post(reverse("callkaro:generate_webhook_secret"))
    assert resp.status_code == 200
    secret = get_effective_config().webhook_secrets[0]
    page = resp.content.decode()
    assert f'value="{secret}"' in page and "X-Webhook-Token" in page  # the header is the documented way
    assert f"https://crm.example.com/callkaro-webhook/?token={secret}" in page  # the fallback, once
    assert resp["Cache-Control"] == "no-store"
    later = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert secret not in later
    assert f"https://crm.example.com/callkaro-webhook/ + X-Webhook-Token: ••••{secret[-4:]}" in later
    raw = raw_config_row()
    assert all(secret not in str(value) for value in raw.values())


def test_a_new_secret_goes_first_and_the_previous_one_keeps_working_until_retired(admin_client_member, settings):
    settings.CALLKARO_WEBHOOK_SECRET = "env-secret-1234"
    first = services.webhook_secret_generate(actor=None)
    assert get_effective_config().webhook_secrets == [first, "env-secret-1234"]
    second = services.webhook_secret_generate(actor=None)
    assert get_effective_config().webhook_secrets == [second, first]
    admin_client_member.post(reverse("callkaro:retire_webhook_secrets"))
    assert get_effective_config().webhook_secrets == [second]


# --- test connection ------------------------------------------------------------------------
@responses.activate
def test_test_connection_reports_success(admin_client_member):
    save(admin_client_member, api_key=KEY)
    responses.post(f"{BASE}/call/outbound", status=400, json={"status": "error", "message": "to_number is required"})
    resp = admin_client_member.post(reverse("callkaro:test_connection"), headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert "Connected" in resp.content.decode()
    assert responses.calls[0].request.headers["X-API-KEY"] == KEY
    assert KEY not in resp.content.decode()


@responses.activate
def test_test_connection_shows_the_providers_error(admin_client_member):
    save(admin_client_member, api_key=KEY)
    responses.post(f"{BASE}/call/outbound", status=403, json={"status": "error", "message": "Invalid API key"})
    resp = admin_client_member.post(reverse("callkaro:test_connection"), follow=True)
    body = resp.content.decode()
    assert "Invalid API key" in body and "HTTP 403" in body
    assert KEY not in body


def test_test_connection_without_a_key_says_so(admin_client_member):
    resp = admin_client_member.post(reverse("callkaro:test_connection"), headers={"HX-Request": "true"})
    assert "Not configured" in resp.content.decode()


# --- access -----------------------------------------------------------------------------------
def config_urls() -> list[tuple[str, str]]:
    agent = CallKaroAgent.objects.create(agent_id="a-1", name="A")
    return [
        ("get", reverse("callkaro:config")),
        ("post", reverse("callkaro:save_config")),
        ("post", reverse("callkaro:generate_webhook_secret")),
        ("post", reverse("callkaro:retire_webhook_secrets")),
        ("post", reverse("callkaro:test_connection")),
        ("post", reverse("callkaro:add_agent")),
        ("get", reverse("callkaro:edit_agent", args=[agent.pk])),
        ("post", reverse("callkaro:edit_agent", args=[agent.pk])),
        ("post", reverse("callkaro:set_agent_active", args=[agent.pk])),
        ("post", reverse("callkaro:assign_agent", args=[agent.pk])),
    ]


@pytest.mark.parametrize("who", ["rep_client", "manager_client"])
def test_non_admins_get_403_on_every_config_url(request, who):
    client = request.getfixturevalue(who)
    for method, url in config_urls():
        resp = getattr(client, method)(url, {"api_key": KEY, "agent_id": "x", "name": "y", "time_zone": "UTC"})
        assert resp.status_code == 403, (method, url)
    assert not CallKaroConfig.objects.exists()


def test_anonymous_users_are_sent_to_login(db):
    resp = Client().get(reverse("callkaro:config"))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_csrf_is_enforced_on_the_config_forms(admin_member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_member.user)
    for url in (reverse("callkaro:save_config"), reverse("callkaro:add_agent"), reverse("callkaro:test_connection")):
        assert client.post(url, {"api_key": KEY, "time_zone": "UTC"}).status_code == 403
    assert not CallKaroConfig.objects.exists()
    # With the token from the page it goes through.
    page = client.get(reverse("callkaro:config"))
    token = page.cookies["csrftoken"].value
    resp = client.post(
        reverse("callkaro:save_config"), {"api_key": KEY, "time_zone": "UTC", "csrfmiddlewaretoken": token}
    )
    assert resp.status_code == 302
    assert json.dumps(KEY) not in page.content.decode()


def test_every_calling_admin_page_renders_without_the_key(admin_client_member, lead, rep):
    from callkaro.models import CallKaroCallLog, CallKaroCampaign
    from telephony.registry import call_log_model

    AcefoneCallLog = call_log_model("acefone")  # noqa: N806 - a model class, found through the registry

    save(admin_client_member, api_key=KEY)
    services.webhook_secret_generate(actor=None)
    agent = services.agent_create(agent_id="ag-1", name="Agent one")
    campaign = CallKaroCampaign.objects.create(name="Diwali", agent=agent)
    ai = CallKaroCallLog.objects.create(lead=lead, team_member=rep, agent=agent, to_number=str(lead.phone))
    human = AcefoneCallLog.objects.create(lead=lead, team_member=rep, to_number=str(lead.phone), agent_number="0602")
    secret = get_effective_config().webhook_secrets[0]
    for name, obj in [
        ("callkaro_callkaroconfig", CallKaroConfig.objects.get()),
        ("callkaro_callkaroagent", agent),
        ("callkaro_callkarocampaign", campaign),
        ("callkaro_callkarocalllog", ai),
        ("acefone_acefonecalllog", human),
    ]:
        for url in (reverse(f"admin:{name}_changelist"), reverse(f"admin:{name}_change", args=[obj.pk])):
            resp = admin_client_member.get(url)
            assert resp.status_code == 200, url
            assert KEY not in resp.content.decode() and secret not in resp.content.decode(), url


def test_the_calling_policy_is_narrowed_on_this_page_never_widened(admin_client_member):
    from telephony.calling_hours import calling_window
    from telephony.eligibility import min_gap

    response = save(admin_client_member, calling_hours="07:00-22:00")
    assert response.status_code == 400
    assert "inside the legal window" in response.content.decode()
    assert str(calling_window()) == "09:00-21:00"
    assert save(admin_client_member, calling_hours="20:00-10:00").status_code == 400  # overnight
    assert save(admin_client_member, calling_hours="10:00-19:30", min_gap_hours="48").status_code == 302
    assert str(calling_window()) == "10:00-19:30"
    assert min_gap().total_seconds() == 48 * 3600
    page = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert 'value="10:00-19:30"' in page
