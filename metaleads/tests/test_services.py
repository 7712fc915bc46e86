"""Fetching a stored lead id: mapping, duplicates, invalid numbers, and Graph errors retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from crm.models import Lead, LeadActivity, LeadSource, LeadStage
from crm.tests.factories import LeadFactory
from metaleads.mapping import lead_from_graph
from metaleads.models import MetaLeadDelivery
from metaleads.services import deliveries_due, delivery_fetch
from metaleads.tasks import backfill_due_task
from metaleads.webhooks import LeadgenChange

from .helpers import FORM_ID, GRAPH, graph_lead, mock_form_name, mock_lead

pytestmark = pytest.mark.django_db


def stored(leadgen_id: str = "L1") -> MetaLeadDelivery:
    return MetaLeadDelivery.objects.create(leadgen_id=leadgen_id, form_id=FORM_ID)


def test_mapping_takes_names_phone_platform_and_keeps_every_answer():
    data = graph_lead(
        "L9",
        platform="ig",
        extra=[{"name": "budget", "values": ["75 lakh"]}, {"name": "when", "values": ["this month", "evenings"]}],
    )
    mapped = lead_from_graph(data)
    assert (mapped.name, mapped.phone, mapped.phone_valid) == ("Asha Rao", "+919812345678", True)
    assert mapped.source == LeadSource.META_INSTAGRAM
    assert mapped.answers["budget"] == "75 lakh" and mapped.answers["when"] == "this month, evenings"
    assert mapped.answers["full_name"] == "Asha Rao"
    assert (mapped.ad_name, mapped.adset_name, mapped.campaign_name) == ("Video ad", "Bengaluru 25-45", "Launch")
    assert mapped.created_at.isoformat() == "2026-11-30T07:00:00+00:00"


def test_mapping_joins_first_and_last_name_and_reads_a_local_number():
    data = graph_lead("L9")
    data["field_data"] = [
        {"name": "first_name", "values": ["Ravi"]},
        {"name": "last_name", "values": ["Kumar"]},
        {"name": "phone_number", "values": ["098123 45678"]},
    ]
    mapped = lead_from_graph(data)
    assert mapped.name == "Ravi Kumar" and mapped.phone == "+919812345678"
    assert mapped.source == LeadSource.META_FACEBOOK


@responses.activate
def test_a_lead_is_created_with_ad_names_answers_and_source():
    mock_lead(graph_lead("L1", platform="ig", extra=[{"name": "budget", "values": ["1 crore"]}]))
    mock_form_name()
    assert delivery_fetch(delivery_id=stored().pk) == "created"
    lead = Lead.objects.get()
    assert lead.source == LeadSource.META_INSTAGRAM
    names = (lead.meta_campaign_name, lead.meta_adset_name, lead.meta_ad_name)
    assert names == ("Launch", "Bengaluru 25-45", "Video ad")
    assert lead.meta_form_name == "2BHK enquiry" and lead.form_answers["budget"] == "1 crore"
    assert lead.email == "asha@example.com" and lead.city == "Pune"
    assert lead.meta_created_at is not None


@responses.activate
def test_an_invalid_phone_still_creates_the_lead_flagged():
    mock_lead(graph_lead("L1", phone="12345"))
    mock_form_name()
    delivery_fetch(delivery_id=stored().pk)
    lead = Lead.objects.get()
    assert lead.phone_invalid is True
    assert lead.activities.filter(kind=LeadActivity.Kind.PHONE_INVALID).exists()


@responses.activate
def test_a_phone_matching_an_open_lead_merges_and_keeps_the_owner(rep, rep2):
    existing = LeadFactory(phone="+919812345678", assigned_to=rep2)
    mock_lead(graph_lead("L1", phone="+91 98123 45678"))
    mock_form_name()
    assert delivery_fetch(delivery_id=stored().pk) == "merged"
    assert Lead.objects.count() == 1
    existing.refresh_from_db()
    assert existing.assigned_to == rep2
    activity = existing.activities.get(kind=LeadActivity.Kind.FORM_AGAIN)
    assert activity.message == "Submitted form 2BHK enquiry again"
    assert MetaLeadDelivery.objects.get().lead == existing


@responses.activate
def test_a_phone_matching_only_a_closed_lead_makes_a_new_lead():
    LeadFactory(phone="+919812345678", stage=LeadStage.CONVERTED)
    mock_lead(graph_lead("L1"))
    mock_form_name()
    assert delivery_fetch(delivery_id=stored().pk) == "created"
    assert Lead.objects.count() == 2


@responses.activate
def test_running_the_fetch_twice_creates_one_lead():
    mock_lead(graph_lead("L1"))
    mock_form_name()
    row = stored()
    delivery_fetch(delivery_id=row.pk)
    assert delivery_fetch(delivery_id=row.pk) == "created"
    assert Lead.objects.count() == 1
    assert len([c for c in responses.calls if c.request.url.startswith(f"{GRAPH}/L1")]) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": {"message": "An unexpected error has occurred", "code": 2}}),
        (503, {"error": {"message": "Service temporarily unavailable", "code": 2}}),
        (400, {"error": {"message": "User request limit reached", "code": 80005, "type": "OAuthException"}}),
        (429, {"error": {"message": "Too many calls", "code": 4}}),
    ],
)
@responses.activate
def test_graph_5xx_and_rate_limits_are_retried_with_backoff_and_shown(admin_client_member, status, body):
    responses.get(f"{GRAPH}/L1", json=body, status=status)
    row = stored()
    assert delivery_fetch(delivery_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.attempts == 1 and row.next_attempt_at > timezone.now()
    assert body["error"]["message"] in row.error
    page = admin_client_member.get("/meta-leads-config/").content.decode()
    assert body["error"]["message"] in page
    # Not due yet: nothing is fetched; once due, the beat's sweep fetches it and the lead appears.
    assert deliveries_due() == []
    responses.replace(responses.GET, f"{GRAPH}/L1", json=graph_lead("L1"))
    mock_form_name()
    MetaLeadDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    backfill_due_task.delay()
    row.refresh_from_db()
    assert row.status == "created" and row.attempts == 2
    assert Lead.objects.filter(meta_lead_id="L1").count() == 1


@responses.activate
def test_an_expired_token_is_kept_for_retry_and_its_message_shown():
    responses.get(
        f"{GRAPH}/L1",
        status=400,
        json={"error": {"message": "Error validating access token: Session has expired", "code": 190}},
    )
    row = stored()
    assert delivery_fetch(delivery_id=row.pk) == "failed"
    row.refresh_from_db()
    assert "has expired (code 190)" in row.error and "meta-page-token" not in row.error


def test_no_page_token_is_a_configuration_error_kept_for_retry(settings):
    settings.META_PAGE_ACCESS_TOKEN = ""
    row = stored()
    assert delivery_fetch(delivery_id=row.pk) == "failed"
    row.refresh_from_db()
    assert "page access token" in row.error


@responses.activate
def test_a_fetch_that_keeps_failing_gives_up_after_many_tries():
    responses.get(f"{GRAPH}/L1", json={"error": {"message": "down", "code": 2}}, status=500)
    row = stored()
    MetaLeadDelivery.objects.filter(pk=row.pk).update(attempts=11)
    assert delivery_fetch(delivery_id=row.pk) == "gave_up"


def test_a_stored_change_keeps_its_ids():
    change = LeadgenChange(leadgen_id="L1", form_id="F", page_id="P", ad_id="A", raw={"leadgen_id": "L1"})
    from metaleads.services import deliveries_store

    assert deliveries_store(changes=[change, change]) == (1, 1)
    row = MetaLeadDelivery.objects.get()
    assert (row.form_id, row.page_id, row.ad_id, row.via) == ("F", "P", "A", "webhook")
