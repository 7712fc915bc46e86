"""Campaign services: preview figures, launch, lifecycle, retries, skip reasons at dial time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from callkaro.campaigns import calls, hooks, lifecycle, selectors, services
from callkaro.campaigns.audience import (
    LeadFilter,
    audience_csv_parse,
    audience_filter_queryset,
    audience_from_csv,
    audience_from_filter,
)
from callkaro.campaigns.inputs import CampaignSettings
from callkaro.campaigns.scheduler import scheduler_tick
from callkaro.models import CallKaroCallLog, CallKaroCampaign
from crm.dnc import dnc_add, is_do_not_call
from crm.models import Lead, LeadSource, LeadStage
from crm.tests.factories import LeadFactory
from telephony.events import call_final_process
from telephony.status import CallStatus

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import dialled, launch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]


def _settings(agent, **kw) -> CampaignSettings:
    return CampaignSettings(name="Diwali offer", agent=agent, **kw)


# --- Preview -------------------------------------------------------------------------------------


def test_preview_reports_every_figure_and_writes_nothing(manager, rep, agent, http):
    good = LeadFactory.create_batch(5, assigned_to=rep)
    LeadFactory(assigned_to=rep, phone=good[0].phone)  # the same number twice
    flagged = LeadFactory(assigned_to=rep, phone_invalid=True)
    listed = LeadFactory(assigned_to=rep)
    dnc_add(number=listed.phone)
    LeadFactory(assigned_to=rep, do_not_call=True)
    busy = LeadFactory(assigned_to=rep)
    other = launch(manager.user, agent, lead_filter=LeadFilter(), name="Other")
    CallKaroCallLog.objects.filter(campaign=other).exclude(lead=busy).delete()
    http.calls.reset()
    before = (CallKaroCampaign.objects.count(), CallKaroCallLog.objects.count(), Lead.objects.count())

    qs = audience_filter_queryset(user=manager.user, lead_filter=LeadFilter())
    invalid = [(None, p) for p in qs.filter(phone_invalid=True).values_list("phone", flat=True)]
    preview = services.campaign_preview(
        audience=audience_from_filter(qs), campaign_settings=_settings(agent, max_retries=2), invalid=invalid
    )

    assert preview.invalid_numbers == [(None, flagged.phone)]
    assert preview.duplicates == 1
    assert preview.do_not_call == 2
    assert preview.in_other_campaigns == 1
    assert preview.eligible == 5
    assert preview.count == 10
    assert preview.estimated_calls == 15  # 5 leads x (1 + 2 retries)
    assert (CallKaroCampaign.objects.count(), CallKaroCallLog.objects.count(), Lead.objects.count()) == before
    assert len(http.calls) == 0


def test_csv_bad_rows_are_reported_by_line_and_good_rows_kept(rep):
    parsed = audience_csv_parse(
        b"Name,Phone,City\nAsha,98765 43210,Pune\nBad,12345,Delhi\nRavi,+919876543211,\nDup,9876543210,Goa\n,,\n"
    )
    assert [(r.line, r.phone, r.name) for r in parsed.rows] == [
        (2, "+919876543210", "Asha"),
        (4, "+919876543211", "Ravi"),
    ]
    assert parsed.rows[0].metadata == {"city": "Pune"}
    assert [line for line, _ in parsed.errors] == [3, 6]
    assert parsed.duplicates == [(5, "+919876543210")]


def test_csv_without_a_phone_column_is_one_clear_error():
    parsed = audience_csv_parse("name,email\nA,a@example.com\n")
    assert parsed.rows == [] and parsed.errors[0][0] == 1 and "phone" in parsed.errors[0][1]


def test_csv_numbers_become_csv_import_leads_or_match_existing_ones_and_rep_cannot_reach_others(rep, rep2):
    mine = LeadFactory(assigned_to=rep, phone="+919876543210")
    LeadFactory(assigned_to=rep2, phone="+919876543212")
    parsed = audience_csv_parse("phone,name,plan\n9876543210,Asha,gold\n9876543211,New,silver\n9876543212,Theirs,x\n")
    members, errors = audience_from_csv(parsed, user=rep.user, create=True)
    assert errors == [(4, "Not one of your leads")]  # never says someone else owns it
    assert members[0].lead_id == mine.pk
    created = Lead.objects.get(phone="+919876543211")
    assert created.source == LeadSource.CSV_IMPORT and created.assigned_to == rep
    assert members[1].metadata == {"plan": "silver"}


# --- Launch --------------------------------------------------------------------------------------


def test_launch_creates_the_campaign_at_callkaro_and_one_scheduled_row_per_eligible_lead(manager, rep, agent, http):
    leads = LeadFactory.create_batch(4, assigned_to=rep)
    dnc_add(number=leads[0].phone)
    start = timezone.now() + dt.timedelta(hours=1)
    campaign = launch(manager.user, agent, start_at=start, max_retries=2, retry_gaps_minutes=[15, 60])

    assert http.calls[0].request.url.endswith("/call/campaign")
    assert campaign.batch_id == "batch-1"
    assert campaign.status == CallKaroCampaign.Status.SCHEDULED
    assert campaign.total_leads == 3
    rows = list(campaign.calls.order_by("id"))
    assert {r.lead_id for r in rows} == {lead.pk for lead in leads[1:]}
    row = rows[0]
    assert row.status == CallStatus.SCHEDULED and row.scheduled_at == start
    assert row.metadata_sent == {"lead_id": row.lead_id, "campaign_id": campaign.pk}
    assert row.agent == agent and row.team_member == rep
    # Our scheduler owns retries: Call Karo must not retry on its own.
    assert row.number_of_retries is None and row.gap_between_retries is None


def test_when_callkaro_owns_retries_they_are_passed_on_each_call(manager, rep, agent, http):
    LeadFactory(assigned_to=rep)
    campaign = launch(
        manager.user, agent, retry_owner=CallKaroCampaign.RetryOwner.CALLKARO, max_retries=3, retry_gaps_minutes=[20]
    )
    row = campaign.calls.get()
    assert (row.number_of_retries, row.gap_between_retries) == (3, 20)


def test_a_rep_launches_for_their_own_leads_only(rep, rep2, agent, http):
    mine = LeadFactory(assigned_to=rep)
    LeadFactory(assigned_to=rep2)
    agent.team_members.add(rep)  # a rep uses the agents assigned to them (agents_usable_by)
    campaign = launch(rep.user, agent, lead_filter=LeadFilter(assignee_id=rep2.pk))
    assert campaign.total_leads == 0
    campaign = launch(rep.user, agent, name="Mine")
    assert list(campaign.calls.values_list("lead_id", flat=True)) == [mine.pk]


def test_bad_settings_are_refused_before_anything_is_sent(manager, agent, http):
    with pytest.raises(calls.CampaignError):
        launch(manager.user, agent, priority=101)
    assert len(http.calls) == 0 and not CallKaroCampaign.objects.exists()


# --- Lifecycle -----------------------------------------------------------------------------------


def test_pause_stops_new_dials_resume_continues_cancel_withdraws(
    manager, rep, agent, http, django_capture_on_commit_callbacks
):
    LeadFactory.create_batch(4, assigned_to=rep)
    campaign = launch(manager.user, agent, pace_per_minute=2, max_concurrent=10)
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick()
    assert len(dialled(http)) == 2  # the pace allows two this minute

    assert lifecycle.campaign_pause(campaign=campaign)
    assert campaign.status == CallKaroCampaign.Status.PAUSED
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick(now=timezone.now() + dt.timedelta(minutes=2))
    assert len(dialled(http)) == 2  # nothing new while paused; the two live calls were left alone
    assert campaign.calls.filter(status=CallStatus.INITIATED).count() == 2

    assert lifecycle.campaign_resume(campaign=campaign)
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick(now=timezone.now() + dt.timedelta(minutes=2))
    assert len(dialled(http)) == 4
    assert len({b["to_number"] for b in dialled(http)}) == 4

    # A handed-over call with a schedule at Call Karo is withdrawn there on cancel.
    handed = campaign.calls.filter(status=CallStatus.INITIATED).first()
    CallKaroCallLog.objects.filter(pk=handed.pk).update(scheduled_at=timezone.now() + dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.campaign_cancel(campaign=campaign)
    assert campaign.status == CallKaroCampaign.Status.CANCELLED
    deletes = [c for c in http.calls if "/call/delete-schedule-call" in c.request.url]
    assert len(deletes) == 1
    handed.refresh_from_db()
    assert handed.status == CallStatus.CANCELLED


def test_cancel_marks_the_remaining_calls_cancelled(manager, rep, agent, http):
    LeadFactory.create_batch(3, assigned_to=rep)
    campaign = launch(manager.user, agent, start_at=timezone.now() + dt.timedelta(days=1))
    assert lifecycle.campaign_cancel(campaign=campaign) == 3
    assert set(campaign.calls.values_list("status", "skip_reason")) == {(CallStatus.CANCELLED, calls.SKIP_CANCELLED)}
    assert lifecycle.campaign_pause(campaign=campaign) is False  # a cancelled campaign stays cancelled


def test_a_scheduled_campaign_starts_at_its_start_time(manager, rep, agent, http, django_capture_on_commit_callbacks):
    LeadFactory(assigned_to=rep)
    start = timezone.now() + dt.timedelta(minutes=10)
    campaign = launch(manager.user, agent, start_at=start)
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick()
    assert dialled(http) == []
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick(now=start + dt.timedelta(seconds=1))
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.RUNNING and len(dialled(http)) == 1


# --- Retries and completion (the final-call hook) ------------------------------------------------


def _finish(row: CallKaroCallLog, status: str) -> CallKaroCallLog:
    CallKaroCallLog.objects.filter(pk=row.pk).update(status=status)
    row.refresh_from_db()
    hooks.on_call_final(row, "callkaro")
    return row


def test_our_scheduler_retries_no_answer_after_the_gap_until_retries_run_out(manager, rep, agent, http):
    LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent, max_retries=2, retry_gaps_minutes=[10, 60])
    first = campaign.calls.get()
    before = timezone.now()
    _finish(first, CallStatus.NO_ANSWER)
    hooks.on_call_final(first, "callkaro")  # the same event twice makes one retry
    second = campaign.calls.get(retry_of=first)
    assert second.attempt == 2 and second.status == CallStatus.SCHEDULED
    assert before + dt.timedelta(minutes=10) <= second.scheduled_at <= timezone.now() + dt.timedelta(minutes=10)
    _finish(second, CallStatus.BUSY)
    third = campaign.calls.get(retry_of=second)
    assert third.attempt == 3
    assert third.scheduled_at >= timezone.now() + dt.timedelta(minutes=59)
    _finish(third, CallStatus.NO_ANSWER)
    assert campaign.calls.count() == 3  # two retries, no more
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.COMPLETED and campaign.finished_at


def test_never_both_owners_when_callkaro_retries_we_do_not(manager, rep, agent, http):
    LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent, retry_owner=CallKaroCampaign.RetryOwner.CALLKARO, max_retries=2)
    row = campaign.calls.get()
    _finish(row, CallStatus.NO_ANSWER)
    assert campaign.calls.count() == 1
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.RUNNING  # Call Karo still holds tries for it
    CallKaroCallLog.objects.filter(pk=row.pk).update(try_count=2)
    row.refresh_from_db()
    hooks.on_call_final(row, "callkaro")
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.COMPLETED


def test_a_completed_call_is_not_retried_and_an_opt_out_joins_the_do_not_call_list(manager, rep, agent, http):
    lead = LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent, max_retries=2)
    row = campaign.calls.get()
    # A disposition mapped to opt-out is a structured signal: the number joins the list at once.
    CallKaroCallLog.objects.filter(pk=row.pk).update(
        disposition="do_not_call", status=CallStatus.COMPLETED, duration_seconds=45
    )
    call_final_process(provider="callkaro", call_log_id=row.pk)  # outcome rules, then the final receivers
    assert campaign.calls.count() == 1
    assert is_do_not_call(lead.phone)


# --- Skip reasons at dial time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda lead, rep2: Lead.objects.filter(pk=lead.pk).update(stage=LeadStage.CONVERTED),
            "is converted: campaigns",
        ),
        (lambda lead, rep2: Lead.objects.filter(pk=lead.pk).update(stage=LeadStage.DEAD), "is dead: campaigns"),
        (lambda lead, rep2: dnc_add(number=lead.phone), "is on the do-not-call list"),
        (
            lambda lead, rep2: Lead.objects.filter(pk=lead.pk).update(stage=LeadStage.NOT_INTERESTED),
            "is not interested: campaigns",
        ),
        (
            lambda lead, rep2: Lead.objects.filter(pk=lead.pk).update(assigned_to=rep2),
            "Lead reassigned away from the campaign's owner",
        ),
    ],
)
def test_the_lead_is_checked_again_just_before_each_dial(
    change,
    reason,
    rep,
    rep2,
    agent,
    http,
    django_capture_on_commit_callbacks,
):
    lead = LeadFactory(assigned_to=rep)
    agent.team_members.add(rep)
    campaign = launch(rep.user, agent)  # a rep's campaign: their own leads only
    change(lead, rep2)
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick()
    row = campaign.calls.get()
    assert row.status == CallStatus.CANCELLED and reason in row.skip_reason
    assert dialled(http) == []


def test_a_lead_already_reached_in_the_campaign_is_not_dialled_again(manager, rep, agent, http):
    lead = LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent)
    first = campaign.calls.get()
    CallKaroCallLog.objects.filter(pk=first.pk).update(status=CallStatus.COMPLETED)
    extra = CallKaroCallLog.objects.create(
        lead=lead, to_number=str(lead.phone), campaign=campaign, agent=agent, status=CallStatus.QUEUED
    )
    assert hooks.campaign_lead_eligible(extra) == "Already reached in this campaign"


def test_a_call_claimed_just_before_a_pause_is_skipped_then_rescheduled_on_resume(manager, rep, agent, http):
    LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent)
    row = campaign.calls.get()
    lifecycle.campaign_pause(campaign=campaign)
    CallKaroCallLog.objects.filter(pk=row.pk).update(status=CallStatus.CANCELLED, skip_reason=calls.SKIP_PAUSED)
    assert hooks.campaign_lead_eligible(row) == calls.SKIP_PAUSED
    lifecycle.campaign_resume(campaign=campaign)
    again = campaign.calls.get(retry_of=row)
    assert again.status == CallStatus.SCHEDULED and again.attempt == row.attempt


def test_progress_counters(manager, rep, agent, http):
    LeadFactory.create_batch(6, assigned_to=rep)
    campaign = launch(manager.user, agent)
    statuses = [
        CallStatus.COMPLETED,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.CANCELLED,
        CallStatus.INITIATED,
    ]
    for row, status in zip(campaign.calls.order_by("id"), statuses, strict=False):
        CallKaroCallLog.objects.filter(pk=row.pk).update(status=status)
    p = selectors.campaign_progress(campaign)
    assert (p["queued"], p["dialing"], p["completed"], p["no_answer"], p["failed"], p["skipped"]) == (1, 1, 1, 1, 1, 1)
    assert p["progress_pct"] == 67 and p["completion_rate"] == round(100 / 6, 1)
