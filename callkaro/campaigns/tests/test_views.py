"""Campaign pages and the JSON endpoints: same services, clear 4xx errors, permissions on the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from callkaro.models import CallKaroCallLog, CallKaroCampaign
from crm.tests.factories import LeadFactory
from telephony.status import CallStatus

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import launch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]

CREATE = "/create-callkaro-campaign/"
SCHEDULE = "/schedule-campaign-call/"


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_the_paths_and_names_are_fixed():
    assert reverse("callkaro:create_campaign") == CREATE
    assert reverse("callkaro:schedule_campaign_call") == SCHEDULE
    assert reverse("callkaro:campaign_list") == "/campaigns/"


def test_create_campaign_preview_writes_nothing_then_launch(manager_client, rep, agent, http):
    LeadFactory.create_batch(3, assigned_to=rep)
    body = {"name": "Q4", "agent_id": "agent-1", "max_retries": 1, "audience": {"filter": {"stage": "new"}}}
    response = post_json(manager_client, CREATE, {**body, "preview": True})
    assert response.status_code == 200
    assert response.json()["preview"]["eligible"] == 3
    assert response.json()["preview"]["estimated_calls"] == 6
    assert not CallKaroCampaign.objects.exists()

    response = post_json(manager_client, CREATE, body)
    assert response.status_code == 201
    data = response.json()["campaign"]
    assert data["batch_id"] == "batch-1" and data["total_leads"] == 3 and data["status"] == "running"


def test_create_campaign_with_rows_reports_bad_rows_by_line(manager_client, agent, http):
    rows = [{"phone": "9876543210", "name": "Asha", "plan": "gold"}, {"phone": "123", "name": "Bad"}]
    response = post_json(manager_client, CREATE, {"name": "CSV", "agent_id": "agent-1", "audience": {"rows": rows}})
    assert response.status_code == 201
    assert response.json()["bad_rows"] == [{"line": 3, "error": "Invalid phone number: '123'"}]
    row = CallKaroCallLog.objects.get()
    assert row.metadata_sent["plan"] == "gold"


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ("not json", 400, "JSON"),
        ({"name": "x", "agent_id": "nope"}, 400, "agent"),
        ({"name": "", "agent_id": "agent-1"}, 400, "name"),
        ({"name": "x", "agent_id": "agent-1", "priority": 500}, 400, "Priority"),
        ({"name": "x", "agent_id": "agent-1", "calling_hours_start": "25:00"}, 400, "a time such as 09:30"),
        ({"name": "x", "agent_id": "agent-1", "time_zone": "Mars/Base"}, 400, "time zone"),
    ],
)
def test_create_campaign_errors_are_clear_4xx(manager_client, agent, http, body, status, text):
    if isinstance(body, str):
        response = manager_client.post(CREATE, data=body, content_type="application/json")
    else:
        response = post_json(manager_client, CREATE, body)
    assert response.status_code == status
    assert text.lower() in response.json()["error"].lower()


def test_callkaro_down_is_a_503_and_nothing_is_created(manager_client, rep, agent, http):
    LeadFactory(assigned_to=rep)
    http.replace("POST", "https://callkaro.test/call/campaign", status=503, json={"message": "down"})
    response = post_json(manager_client, CREATE, {"name": "x", "agent_id": "agent-1"})
    assert response.status_code == 503
    assert not CallKaroCampaign.objects.exists()


def test_a_rep_builds_only_from_their_own_leads(rep_client, rep, rep2, agent, http):
    agent.team_members.add(rep)
    mine = LeadFactory(assigned_to=rep)
    LeadFactory(assigned_to=rep2)
    body = {"name": "Mine", "agent_id": "agent-1", "audience": {"filter": {"assignee_id": rep2.pk}}}
    response = post_json(rep_client, CREATE, body)
    assert response.status_code == 201
    campaign = CallKaroCampaign.objects.get()
    assert list(campaign.calls.values_list("lead_id", flat=True)) == [mine.pk]


def test_schedule_campaign_call_adds_then_reschedules_one_lead(manager, manager_client, rep, agent, http):
    campaign = launch(manager.user, agent)
    lead = LeadFactory(assigned_to=rep)
    body = {"campaign_id": campaign.pk, "lead_id": lead.pk, "scheduled_at": "2026-11-24T10:00:00+05:30"}
    response = post_json(manager_client, SCHEDULE, body)
    assert response.status_code == 201 and response.json()["created"] is True
    response = post_json(manager_client, SCHEDULE, {**body, "scheduled_at": "2026-11-25T10:00:00+05:30"})
    assert response.status_code == 200 and response.json()["created"] is False
    row = CallKaroCallLog.objects.get(pk=response.json()["call_log_id"])
    assert row.scheduled_at.isoformat() == "2026-11-25T04:30:00+00:00"
    assert campaign.calls.filter(lead=lead).count() == 1


def test_schedule_campaign_call_errors(manager, manager_client, rep_client, rep, rep2, agent, http):
    campaign = launch(manager.user, agent)
    theirs = LeadFactory(assigned_to=rep2)
    assert post_json(manager_client, SCHEDULE, {"campaign_id": campaign.pk}).status_code == 400
    assert post_json(manager_client, SCHEDULE, {"campaign_id": 999, "lead_id": theirs.pk}).status_code == 404
    # A rep cannot touch a manager's campaign, nor see another rep's lead.
    assert post_json(rep_client, SCHEDULE, {"campaign_id": campaign.pk, "lead_id": theirs.pk}).status_code == 404
    campaign.status = CallKaroCampaign.Status.COMPLETED
    campaign.save()
    response = post_json(manager_client, SCHEDULE, {"campaign_id": campaign.pk, "lead_id": theirs.pk})
    assert response.status_code == 409


BUILDER_FORM = {
    "name": "Builder",
    "audience_kind": "filter",
    "calling_hours_start": "09:00",
    "calling_hours_end": "21:00",
    "retry_owner": "scheduler",
    "max_retries": 1,
    "retry_gaps_minutes": "30,60",
    "priority": 0,
    "pace_per_minute": 10,
    "max_concurrent": 5,
}


def test_builder_saves_a_draft_preview_reads_it_launch_flips_it(manager_client, rep, agent, http):
    LeadFactory.create_batch(2, assigned_to=rep)
    response = manager_client.post(reverse("callkaro:campaign_new"), {**BUILDER_FORM, "agent": agent.pk})
    draft = CallKaroCampaign.objects.get()
    assert draft.status == CallKaroCampaign.Status.DRAFT and draft.retry_gaps_minutes == [30, 60]
    assert response.status_code == 302 and response.url == reverse("callkaro:campaign_preview", args=[draft.pk])
    assert "campaign_builder" not in manager_client.session  # no session state
    page = manager_client.get(response.url)
    assert page.status_code == 200
    assert page.context["preview"].eligible == 2
    assert not CallKaroCallLog.objects.exists() and len(http.calls) == 0
    response = manager_client.post(reverse("callkaro:campaign_preview", args=[draft.pk]))
    campaign = CallKaroCampaign.objects.get()
    assert campaign.pk == draft.pk and campaign.status == CallKaroCampaign.Status.RUNNING
    assert response.url == reverse("callkaro:campaign_detail", args=[campaign.pk])
    assert campaign.batch_id == "batch-1" and campaign.total_leads == 2
    # A second launch (a double click) changes nothing.
    manager_client.post(reverse("callkaro:campaign_preview", args=[draft.pk]))
    assert CallKaroCallLog.objects.count() == 2


def test_builder_csv_upload(manager_client, agent, http, settings, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("leads.csv", b"phone,name\n9876543210,Asha\nbad,Bad\n", content_type="text/csv")
    form = {**BUILDER_FORM, "name": "CSV", "agent": agent.pk, "audience_kind": "csv", "csv_file": upload}
    form.pop("retry_gaps_minutes")
    response = manager_client.post(reverse("callkaro:campaign_new"), form)
    assert response.status_code == 302
    draft = CallKaroCampaign.objects.get()
    stored = Path(draft.audience_file.path)
    assert stored.is_file() and stored.is_relative_to(Path(settings.MEDIA_ROOT))
    assert draft.audience["file_name"] == "leads.csv"
    page = manager_client.get(reverse("callkaro:campaign_preview", args=[draft.pk]))
    assert b"Line 3" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("callkaro:campaign_preview", args=[draft.pk]))
    campaign = CallKaroCampaign.objects.get()
    assert campaign.total_leads == 1 and not campaign.audience_file and not stored.exists()


def test_a_draft_is_edited_in_the_builder_keeping_its_upload(manager_client, agent, http):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("leads.csv", b"phone\n9876543210\n", content_type="text/csv")
    form = {**BUILDER_FORM, "agent": agent.pk, "audience_kind": "csv", "csv_file": upload}
    manager_client.post(reverse("callkaro:campaign_new"), form)
    draft = CallKaroCampaign.objects.get()
    edit = reverse("callkaro:campaign_edit", args=[draft.pk])
    page = manager_client.get(edit)
    assert page.status_code == 200 and page.context["form"].initial["retry_gaps_minutes"] == "30,60"
    form.pop("csv_file")
    response = manager_client.post(edit, {**form, "name": "Renamed", "priority": 7})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.name, draft.priority, draft.status) == ("Renamed", 7, "draft") and draft.audience_file
    assert CallKaroCampaign.objects.count() == 1


def test_abandoned_drafts_are_listed_and_deletable_by_who_may_manage_them(
    manager_client, rep_client, rep2_client, rep, agent, http
):
    agent.team_members.add(rep)
    rep_client.post(reverse("callkaro:campaign_new"), {**BUILDER_FORM, "name": "Forgotten", "agent": agent.pk})
    draft = CallKaroCampaign.objects.get()
    delete = reverse("callkaro:campaign_delete", args=[draft.pk])
    page = rep_client.get(reverse("callkaro:campaign_list"))
    assert b"Forgotten" in page.content and b"Draft" in page.content and delete.encode() in page.content
    assert rep_client.get(delete).status_code == 405  # POST only
    assert rep2_client.post(delete).status_code == 404  # not theirs to see or delete
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(rep.user)
    assert csrf_client.post(delete).status_code == 403  # CSRF
    assert CallKaroCampaign.objects.filter(pk=draft.pk).exists()
    assert rep_client.post(delete).status_code == 302
    assert not CallKaroCampaign.objects.exists()


def test_a_launched_campaign_is_not_deleted_as_a_draft(manager, manager_client, rep, agent, http):
    LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent)
    manager_client.post(reverse("callkaro:campaign_delete", args=[campaign.pk]))
    assert CallKaroCampaign.objects.filter(pk=campaign.pk, status="running").exists()


def test_a_failed_api_launch_leaves_no_draft(manager_client, rep, agent, http):
    http.replace("POST", "https://callkaro.test/call/campaign", status=503, json={"message": "down"})
    assert post_json(manager_client, CREATE, {"name": "x", "agent_id": "agent-1"}).status_code == 503
    assert not CallKaroCampaign.objects.exists()


def test_detail_page_live_fragment_and_buttons(manager, manager_client, rep, agent, http):
    LeadFactory.create_batch(2, assigned_to=rep)
    campaign = launch(manager.user, agent)
    url = reverse("callkaro:campaign_detail", args=[campaign.pk])
    page = manager_client.get(url)
    assert page.status_code == 200 and b'hx-trigger="every 3s"' in page.content
    fragment = manager_client.get(url, HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and b"campaign-progress" in fragment.content
    pause = reverse("callkaro:campaign_action", args=[campaign.pk, "pause"])
    assert manager_client.post(pause, HTTP_HX_REQUEST="true").status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    manager_client.post(reverse("callkaro:campaign_action", args=[campaign.pk, "resume"]))
    manager_client.post(reverse("callkaro:campaign_action", args=[campaign.pk, "cancel"]))
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"
    assert set(campaign.calls.values_list("status", flat=True)) == {CallStatus.CANCELLED}


def test_reps_see_only_their_own_campaigns(manager, rep_client, rep, agent, http):
    campaign = launch(manager.user, agent)
    assert rep_client.get(reverse("callkaro:campaign_detail", args=[campaign.pk])).status_code == 404
    assert rep_client.post(reverse("callkaro:campaign_action", args=[campaign.pk, "cancel"])).status_code == 404
    page = rep_client.get(reverse("callkaro:campaign_list"))
    assert page.status_code == 200 and campaign.name.encode() not in page.content


def test_the_list_shows_progress_to_managers(manager, manager_client, rep, agent, http):
    LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent, name="Diwali")
    page = manager_client.get(reverse("callkaro:campaign_list"))
    assert page.status_code == 200
    assert (
        b"Diwali" in page.content and reverse("callkaro:campaign_detail", args=[campaign.pk]).encode() in page.content
    )
    assert b'href="/campaigns/"' in page.content  # linked from the nav


def test_deleting_a_csv_draft_removes_its_upload(manager_client, agent, http, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("leads.csv", b"phone\n9876543210\n", content_type="text/csv")
    form = {**BUILDER_FORM, "agent": agent.pk, "audience_kind": "csv", "csv_file": upload}
    manager_client.post(reverse("callkaro:campaign_new"), form)
    draft = CallKaroCampaign.objects.get()
    stored = Path(draft.audience_file.path)
    assert stored.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("callkaro:campaign_delete", args=[draft.pk]))
    assert not CallKaroCampaign.objects.exists() and not stored.exists()


def test_a_draft_is_launched_only_with_an_agent_the_launcher_may_use(rep, rep_client, agent, http):
    LeadFactory(assigned_to=rep)
    agent.team_members.add(rep)
    rep_client.post(reverse("callkaro:campaign_new"), {**BUILDER_FORM, "agent": agent.pk})
    draft = CallKaroCampaign.objects.get()
    agent.team_members.remove(rep)  # unassigned while the draft waited
    response = rep_client.post(reverse("callkaro:campaign_preview", args=[draft.pk]))
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.status == CallKaroCampaign.Status.DRAFT
    assert not CallKaroCallLog.objects.exists() and len(http.calls) == 0
