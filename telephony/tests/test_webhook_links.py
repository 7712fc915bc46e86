"""Links from webhooks (issue 17 §4): only https (http in the sandbox) URLs become links or media."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from telephony.payload import as_url
from telephony.tests.webhook_samples import (
    AF_SECRET,
    CK_SECRET,
    acefone_hangup,
    call_ended,
    final_receivers_only,
    make_af_log,
    make_ck_log,
    post_json,
)

EVIL = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:x",
    "//evil.example/x.mp3",
    "/relative.mp3",
    "https://",
    "https://ok.example/a b.mp3",
    "https://ok.example/\x01.mp3",
    "ftp://files.example/r.mp3",
]


@pytest.fixture(autouse=True)
def _secrets(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.ACEFONE_WEBHOOK_SECRET = AF_SECRET
    settings.PROVIDER_SANDBOX = False
    final_receivers_only(monkeypatch)


@pytest.mark.parametrize("value", EVIL + ["http://rec.example/r.mp3"])
def test_as_url_refuses_anything_but_https(value):
    assert as_url(value) == ""


def test_as_url_keeps_https_and_http_only_in_the_sandbox(settings):
    assert as_url("https://rec.example/r.mp3?x=1") == "https://rec.example/r.mp3?x=1"
    assert as_url("http://rec.example/r.mp3") == ""
    settings.PROVIDER_SANDBOX = True
    assert as_url("http://rec.example/r.mp3") == "http://rec.example/r.mp3"
    assert as_url("javascript:alert(1)") == ""


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["javascript:alert(document.cookie)", "data:text/html,x"])
def test_callkaro_links_from_a_webhook_are_stored_only_when_safe(client, lead, value):
    log = make_ck_log(lead)
    body = call_ended(log.pk, recordingUrl=value, call_link=value)
    assert post_json(client, "/callkaro-webhook/", body, token=CK_SECRET).status_code == 200
    log = CallKaroCallLog.objects.get(pk=log.pk)
    assert log.status == "completed"  # the event still applies
    assert (log.recording_url, log.call_link) == ("", "")


@pytest.mark.django_db
def test_acefone_recording_link_from_a_webhook_is_stored_only_when_safe(client, lead):
    log = make_af_log(lead)
    body = acefone_hangup(log.pk, recording_url="javascript:alert(1)")
    assert post_json(client, "/acefone-webhook/", body, token=AF_SECRET).status_code == 200
    assert AcefoneCallLog.objects.get(pk=log.pk).recording_url == ""


def test_safe_url_filter():
    template = Template("{% load safe_urls %}[{{ url|safe_url }}]")
    assert template.render(Context({"url": "javascript:alert(1)"})) == "[]"
    assert template.render(Context({"url": "https://rec.example/r.mp3"})) == "[https://rec.example/r.mp3]"


@pytest.mark.django_db
def test_a_stored_javascript_recording_is_never_a_media_source(rep_client, lead):
    """A row saved before the parsers checked (or by hand) never becomes a player or a link."""
    CallKaroCallLog.objects.create(
        lead=lead, to_number=str(lead.phone), status="completed", recording_url="javascript:alert(1)"
    )
    html = rep_client.get(reverse("crm:call_history", args=[lead.pk])).content.decode()
    assert 'src="javascript:' not in html and 'href="javascript:' not in html and "<audio" not in html


@pytest.mark.django_db
def test_a_stored_javascript_recording_is_not_a_link_on_the_dashboard(manager_client, lead):
    CallKaroCallLog.objects.create(
        lead=lead, to_number=str(lead.phone), status="completed", recording_url="javascript:alert(1)"
    )
    html = manager_client.get(reverse("reporting:dashboard"), {"period": "all"}).content.decode()
    assert 'href="javascript:' not in html
