"""Campaign input: uploads that are not UTF-8 CSV, the API bound to the page's form, no orphan batch."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from callkaro.campaigns import services
from callkaro.campaigns.audience import audience_csv_parse, csv_upload_problem
from callkaro.campaigns.calls import CampaignError
from callkaro.campaigns.inputs import CampaignSettings
from callkaro.models import CallKaroCampaign
from crm.tests.factories import LeadFactory

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import launch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]
CREATE = "/create-callkaro-campaign/"


def post_json(client, body):
    return client.post(CREATE, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04\x14\x00rest-of-a-workbook", "Excel workbook"),
        (b"%PDF-1.7 ...", "PDF"),
        ("phone,name\n9876543210,Asha\n".encode("utf-16"), "UTF-16"),
        (b"phone,name\n9876543210,Jos\xe9\n", "byte 0xE9 on line 2 is not UTF-8"),
        (b"\x00\x01\x02binary", "binary file"),
    ],
)
def test_a_non_utf8_or_binary_file_is_refused_naming_the_problem(data, words):
    assert words in csv_upload_problem(data)
    assert words in audience_csv_parse(data).errors[0][1]


def test_utf8_with_a_bom_and_hindi_names_is_fine():
    data = "\ufeffphone,name\n9876543210,आशा\n".encode()
    assert csv_upload_problem(data) == ""
    assert audience_csv_parse(data).rows[0].name == "आशा"


def test_the_builder_page_refuses_the_upload_with_the_reason(manager_client, agent):
    upload = SimpleUploadedFile("leads.csv", b"phone,name\n9876543210,Jos\xe9\n", "text/csv")
    form = {
        "name": "x",
        "agent": agent.pk,
        "audience_kind": "csv",
        "csv_file": upload,
        "calling_hours_start": "09:00",
        "calling_hours_end": "21:00",
        "retry_owner": "scheduler",
        "pace_per_minute": 10,
        "max_concurrent": 5,
    }
    page = manager_client.post("/campaigns/new/", form).content.decode()
    assert "is not UTF-8" in page
    assert not CallKaroCampaign.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pace_per_minute": 5000}, "pace_per_minute"),
        ({"pace_per_minute": 0}, "pace_per_minute"),
        ({"max_concurrent": 100000}, "max_concurrent"),
        ({"max_retries": 11}, "max_retries"),
        ({"retry_gaps_minutes": "soon"}, "retry_gaps_minutes"),
        ({"calling_hours_start": "07:00"}, "calling_hours_end"),
        ({"calling_hours_start": "20:00", "calling_hours_end": "10:00"}, "calling_hours_end"),
        ({"audience": {"filter": {"created_from": "yesterday"}}}, "created_from"),
        ({"audience": {"filter": {"stage": "hot"}}}, "stage"),
        ({"audience": {"filter": {"not_called_days": "x"}}}, "not_called_days"),
        ({"audience": {"filter": {"assignee_id": "abc"}}}, "assignee_id"),
    ],
)
def test_the_json_api_answers_400_with_field_errors_never_500(manager_client, agent, http, body, field):
    response = post_json(manager_client, {"name": "x", "agent_id": "agent-1", **body})
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not CallKaroCampaign.objects.exists()


def test_the_api_preview_shows_the_expected_calling_time(manager_client, rep, agent, http):
    LeadFactory.create_batch(25, assigned_to=rep)
    body = {"name": "x", "agent_id": "agent-1", "pace_per_minute": 10, "preview": True}
    preview = post_json(manager_client, body).json()["preview"]
    assert (preview["eligible"], preview["calling_minutes"], preview["calling_days"]) == (25, 3, 1)


def test_the_preview_page_shows_the_expected_calling_time(manager, manager_client, rep, agent):
    LeadFactory.create_batch(3, assigned_to=rep)
    draft = services.campaign_draft_save(
        user=manager.user,
        campaign_settings=CampaignSettings(name="x", agent=agent, pace_per_minute=2),
        audience={"kind": "filter", "filter": {}},
    )
    page = manager_client.get(f"/campaigns/{draft.pk}/preview/").content.decode()
    assert 'id="preview-time"' in page and "about 2 min of dialling at 2/min" in page


def test_a_failed_local_launch_creates_no_batch_at_call_karo(manager, rep, agent, http, monkeypatch):
    LeadFactory(assigned_to=rep)

    def broken(*args, **kwargs):
        raise CampaignError("a row could not be written")

    monkeypatch.setattr(services, "campaign_call_row", broken)
    with pytest.raises(CampaignError):
        launch(manager.user, agent)
    assert not [c for c in http.calls if c.request.url.endswith("/call/campaign")]
    assert CallKaroCampaign.objects.get().status == CallKaroCampaign.Status.DRAFT


def test_a_double_launch_creates_one_batch(manager, rep, agent, http):
    LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent)
    campaign.status = CallKaroCampaign.Status.DRAFT  # a stale copy, as a second click holds it
    with pytest.raises(CampaignError):
        services.campaign_launch(user=manager.user, campaign=campaign)
    assert len([c for c in http.calls if c.request.url.endswith("/call/campaign")]) == 1
