"""/meta-leads-webhook/: verification, signatures, several entries, redelivery and order."""

from __future__ import annotations

import pytest
import responses
from django.test import Client

from crm.models import Lead
from metaleads.models import MetaLeadDelivery, MetaWebhookRejection
from metaleads.webhooks import leadgen_changes, signature_for, signature_problem

from .helpers import APP_SECRET, URL, VERIFY_TOKEN, delivery, graph_lead, mock_form_name, mock_lead, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def meta_client():
    """An anonymous client that enforces CSRF: the webhook must need neither login nor a token."""
    return Client(enforce_csrf_checks=True)


def verify(client, token: str, mode: str = "subscribe"):
    return client.get(URL, {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": "1158201444"})


def test_verification_echoes_the_challenge_as_plain_text_when_the_token_matches(meta_client):
    resp = verify(meta_client, VERIFY_TOKEN)
    assert resp.status_code == 200
    assert resp.content == b"1158201444"
    assert resp["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(("token", "mode"), [("wrong", "subscribe"), ("", "subscribe"), (VERIFY_TOKEN, "unsubscribe")])
def test_verification_is_refused_with_403_otherwise(meta_client, token, mode):
    resp = verify(meta_client, token, mode)
    assert resp.status_code == 403
    assert b"1158201444" not in resp.content


def test_verification_is_refused_when_no_token_is_configured(meta_client, settings):
    settings.META_VERIFY_TOKEN = ""
    assert verify(meta_client, "").status_code == 403


@responses.activate
def test_a_signed_delivery_is_stored_fetched_and_makes_one_lead(meta_client, django_capture_on_commit_callbacks):
    mock_lead(graph_lead("L1"))
    mock_form_name()
    body = delivery(["L1"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(meta_client, body)
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"status": "ok", "stored": 1, "duplicates": 0}
    lead = Lead.objects.get(meta_lead_id="L1")
    assert lead.name == "Asha Rao" and str(lead.phone) == "+919812345678"
    assert lead.meta_form_name == "2BHK enquiry"
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer meta-page-token-0001"
    assert "access_token" not in sent.url
    assert MetaLeadDelivery.objects.get().status == "created"


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "signature mismatch"),  # signed with another secret (set below)
        ("", "signature missing"),
        ("sha1=abc", "signature malformed"),
        ("sha256=" + "0" * 64, "signature mismatch"),
    ],
)
@responses.activate
def test_a_bad_or_missing_signature_gets_403_and_no_lead_no_graph_call(meta_client, signature, reason):
    body = delivery(["L1"])
    if signature is None:
        resp = post(meta_client, body, secret="another-secret")
    else:
        resp = post(meta_client, body, signature=signature)
    assert resp.status_code == 403
    assert not MetaLeadDelivery.objects.exists() and not Lead.objects.exists()
    assert len(responses.calls) == 0
    rejection = MetaWebhookRejection.objects.get()
    assert rejection.reason == reason


def test_a_signature_over_a_body_differing_by_one_byte_is_refused(meta_client):
    body = delivery(["L1"])
    signature = signature_for(body, APP_SECRET)
    tampered = body.replace(b"L1", b"L2")
    assert len(tampered) == len(body) and tampered != body
    assert post(meta_client, tampered, signature=signature).status_code == 403
    assert post(meta_client, body + b" ", signature=signature).status_code == 403
    assert not MetaLeadDelivery.objects.exists()


def test_a_rejected_delivery_keeps_only_a_truncated_record(meta_client):
    body = delivery([f"L{i}" for i in range(200)])
    assert len(body) > 1000
    post(meta_client, body, signature="sha256=" + "f" * 64)
    rejection = MetaWebhookRejection.objects.get()
    assert len(rejection.body_prefix) <= 256 and rejection.body_length == len(body)


def test_signature_check_is_constant_time_hmac():
    body = b'{"object":"page"}'
    assert signature_problem(body, signature_for(body, "s3cret"), "s3cret") is None
    upper_hex = signature_for(body, "s3cret").upper().replace("SHA256=", "sha256=")
    assert signature_problem(body, upper_hex, "s3cret") is None
    assert signature_problem(body, signature_for(body, "s3cret"), "") == "no app secret configured"


@responses.activate
def test_several_entries_and_changes_per_body_each_make_a_lead(meta_client, django_capture_on_commit_callbacks):
    for i, phone in enumerate(["+919812345601", "+919812345602", "+919812345603"], start=1):
        mock_lead(graph_lead(f"L{i}", phone=phone))
    mock_form_name()
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(meta_client, delivery(["L1", "L2"], ["L3"]))
    assert resp.json()["stored"] == 3
    assert set(Lead.objects.values_list("meta_lead_id", flat=True)) == {"L1", "L2", "L3"}


@responses.activate
def test_redelivery_and_out_of_order_delivery_create_one_lead_each(meta_client, django_capture_on_commit_callbacks):
    mock_lead(graph_lead("L1", phone="+919812345601"))
    mock_lead(graph_lead("L2", phone="+919812345602"))
    mock_form_name()
    with django_capture_on_commit_callbacks(execute=True):
        post(meta_client, delivery(["L2"]))
        post(meta_client, delivery(["L1"]))
        again = post(meta_client, delivery(["L2", "L1"]))
        post(meta_client, delivery(["L1"]))
    assert again.json() == {"status": "ok", "stored": 0, "duplicates": 2}
    assert Lead.objects.count() == 2
    assert MetaLeadDelivery.objects.count() == 2
    lead_fetches = [c for c in responses.calls if "/L" in c.request.url]
    assert len(lead_fetches) == 2


def test_bad_json_with_a_good_signature_is_400(meta_client):
    assert post(meta_client, b"{not json").status_code == 400


def test_other_fields_are_ignored():
    body = b'{"object":"page","entry":[{"id":"p","changes":[{"field":"feed","value":{"leadgen_id":"x"}}]}]}'
    assert leadgen_changes(body) == []


def test_only_get_and_post_are_allowed(meta_client):
    assert meta_client.put(URL).status_code == 405


def test_an_over_large_body_is_refused_before_anything_is_stored(meta_client, settings):
    settings.WEBHOOK_MAX_BYTES = 100
    assert post(meta_client, delivery([f"L{i}" for i in range(20)])).status_code == 413
    assert not MetaLeadDelivery.objects.exists() and not MetaWebhookRejection.objects.exists()


def test_a_broker_failure_still_answers_200_and_leaves_the_row_for_the_sweep(
    meta_client, monkeypatch, django_capture_on_commit_callbacks
):
    from metaleads import tasks

    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.delivery_fetch_task, "delay", broken)
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(meta_client, delivery(["L1"]))
    assert resp.status_code == 200
    assert MetaLeadDelivery.objects.get().status == "pending"
