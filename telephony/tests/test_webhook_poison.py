"""Poison webhooks (issue 17 §9): a value the parser cannot use is a 400 stored as failed, never a 503."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from telephony.models import ProviderWebhookEvent
from telephony.payload import WebhookPayloadError, as_datetime
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

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _secrets(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.ACEFONE_WEBHOOK_SECRET = AF_SECRET
    final_receivers_only(monkeypatch)


def _future(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("when", ["9999-12-31 23:59:59", "0001-01-01 00:00:00", "9999-12-31T23:59:59+00:00"])
def test_callkaro_time_out_of_range_is_400_stored_failed(client, lead, when):
    log = make_ck_log(lead)
    response = post_json(client, "/callkaro-webhook/", call_ended(log.pk, time=when), token=CK_SECRET)
    assert response.status_code == 400, response.content
    assert "Time" in response.json()["message"]
    row = ProviderWebhookEvent.objects.get()
    assert (row.outcome, row.is_authenticated) == ("failed", True) and "out of range" in row.error
    log.refresh_from_db()
    assert log.status == "initiated"


def test_callkaro_time_far_in_the_future_is_refused(client, lead):
    log = make_ck_log(lead)
    response = post_json(client, "/callkaro-webhook/", call_ended(log.pk, time=_future(3)), token=CK_SECRET)
    assert response.status_code == 400 and "future" in response.json()["message"]
    assert ProviderWebhookEvent.objects.get().outcome == "failed"


@pytest.mark.parametrize("field", ["start_stamp", "answer_stamp", "end_stamp"])
@pytest.mark.parametrize("when", ["9999-12-31 23:59:59", "0001-01-01 00:00:00"])
def test_acefone_time_out_of_range_is_400_stored_failed(client, lead, field, when):
    log = make_af_log(lead)
    response = post_json(client, "/acefone-webhook/", acefone_hangup(log.pk, **{field: when}), token=AF_SECRET)
    assert response.status_code == 400, response.content
    assert ProviderWebhookEvent.objects.get().outcome == "failed"


def test_a_parser_bug_on_a_value_is_400_not_503(client, lead, monkeypatch):
    """Whatever a parser raises on a value (an overflow, a type error) is the body's fault: 400."""
    from callkaro import webhooks as ck_webhooks

    def broken(item, zone):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(ck_webhooks, "_parse_one", broken)
    response = post_json(client, "/callkaro-webhook/", call_ended(make_ck_log(lead).pk), token=CK_SECRET)
    assert response.status_code == 400
    assert ProviderWebhookEvent.objects.get().outcome == "failed"


def test_as_datetime_bounds():
    assert as_datetime("2026-11-20 11:42:07", "Asia/Kolkata").utcoffset() == timedelta(hours=5, minutes=30)
    assert as_datetime("not a time", "UTC") is None
    assert as_datetime(_future(0), "UTC") is not None  # clock skew within a day is fine
    for value in ("9999-12-31 23:59:59", "0001-01-01", "1999-12-31T23:00:00+00:00", _future(2)):
        with pytest.raises(WebhookPayloadError):
            as_datetime(value, "UTC")
