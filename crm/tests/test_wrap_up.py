"""The wrap-up after a human call: asked on the panel, applied through the outcome rules, once per call."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from crm.models import FollowUp, LeadStage
from reporting.periods import DashboardFilters, period_resolve
from reporting.selectors import dashboard_figures
from telephony.models import CallWrapUp, Disposition

pytestmark = pytest.mark.django_db


def _human_call(lead, rep, status="completed", **kw):
    return AcefoneCallLog.objects.create(
        lead=lead, team_member=rep, to_number=str(lead.phone), agent_number="1001", status=status, **kw
    )


def _post(client, log, **data):
    prefix = f"wrap-acefone-{log.pk}"
    return client.post(
        reverse("crm:call_wrap_up", args=["acefone", log.pk]),
        {f"{prefix}-{k}": v for k, v in data.items()},
        HTTP_HX_REQUEST="true",
    )


def test_defaults_are_seeded():
    assert list(Disposition.objects.values_list("code", flat=True)) == [
        "converted",
        "interested",
        "callback",
        "not_interested",
        "wrong_number",
        "no_answer",
    ]


def test_an_ended_human_call_asks_for_a_wrap_up_and_an_ai_call_does_not(rep_client, lead, rep):
    human = _human_call(lead, rep, duration_seconds=60, agent_answered=True, customer_answered=True)
    ai = CallKaroCallLog.objects.create(lead=lead, team_member=rep, to_number=str(lead.phone), status="completed")
    body = rep_client.get(reverse("crm:call_history", args=[lead.pk])).content.decode()
    assert f'id="wrap-acefone-{human.pk}" open' in body and "Wrap up this call" in body
    assert f"wrap-callkaro-{ai.pk}" not in body
    assert "How did the call go?" in body and "Follow up at" in body


def test_a_live_human_call_offers_call_ended(rep_client, lead, rep):
    _human_call(lead, rep, status="in_progress")
    body = rep_client.get(reverse("crm:call_history", args=[lead.pk])).content.decode()
    assert "<summary>Call ended</summary>" in body


def test_interested_is_not_a_conversion(rep_client, lead, rep):
    log = _human_call(lead, rep, duration_seconds=90, agent_answered=True, customer_answered=True)
    _post(rep_client, log, disposition=Disposition.objects.get(code="interested").pk)
    lead.refresh_from_db()
    log.refresh_from_db()
    assert lead.stage == LeadStage.INTERESTED and log.converted is False


def test_wrap_up_creates_follow_up_counts_conversion_and_moves_stage(rep_client, lead, rep):
    log = _human_call(lead, rep, duration_seconds=90, agent_answered=True, customer_answered=True)
    due = timezone.localtime() + dt.timedelta(days=1)
    interested = Disposition.objects.get(code="converted")
    resp = _post(
        rep_client,
        log,
        disposition=interested.pk,
        note="Site visit Saturday",
        follow_up_at=due.strftime("%Y-%m-%dT%H:%M"),
    )
    assert resp.status_code == 200 and "Wrap up this call" not in resp.content.decode()
    follow_up = FollowUp.objects.get(lead=lead)
    assert follow_up.source == FollowUp.Source.WRAP_UP and follow_up.call_ref == f"acefone:{log.pk}"
    assert follow_up.owner == rep
    lead.refresh_from_db()
    assert lead.stage == LeadStage.CONVERTED  # through the outcome rules, like an AI call's conversion
    log.refresh_from_db()
    assert log.converted is True
    figures = dashboard_figures(period_resolve("today"), DashboardFilters())
    assert figures.by_provider["acefone"].conversions == 1
    assert lead.notes.get().body == "Converted (deal agreed): Site visit Saturday"
    # a second wrap-up of the same call changes nothing
    _post(rep_client, log, disposition=Disposition.objects.get(code="not_interested").pk)
    assert CallWrapUp.objects.get().disposition == interested


def test_an_explicit_stage_wins_and_long_notes_are_refused(rep_client, lead, rep):
    log = _human_call(lead, rep)
    callback = Disposition.objects.get(code="callback")
    resp = _post(rep_client, log, disposition=callback.pk, note="x" * 301)
    body = resp.content.decode()
    assert "at most 300 characters" in body and not CallWrapUp.objects.exists()
    _post(rep_client, log, disposition=callback.pk, stage=LeadStage.NOT_INTERESTED)
    lead.refresh_from_db()
    assert lead.stage == LeadStage.NOT_INTERESTED


def test_another_reps_call_cannot_be_wrapped_up(rep2_client, lead, rep):
    log = _human_call(lead, rep)
    assert _post(rep2_client, log, disposition=Disposition.objects.first().pk).status_code == 404
    assert not CallWrapUp.objects.exists()


def test_only_human_providers_take_a_wrap_up(rep_client, lead, rep):
    ai = CallKaroCallLog.objects.create(lead=lead, team_member=rep, to_number=str(lead.phone), status="completed")
    resp = rep_client.post(reverse("crm:call_wrap_up", args=["callkaro", ai.pk]), {})
    assert resp.status_code == 404


def test_old_calls_no_longer_ask_for_a_wrap_up(rep_client, lead, rep):
    log = _human_call(lead, rep)
    AcefoneCallLog.objects.filter(pk=log.pk).update(created_at=timezone.now() - dt.timedelta(hours=13))
    body = rep_client.get(reverse("crm:call_history", args=[lead.pk])).content.decode()
    assert f"wrap-acefone-{log.pk}" not in body
