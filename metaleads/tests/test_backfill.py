"""The backfill: a dropped delivery is recovered; the watermark moves only after a full read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from django.utils import timezone

from crm.models import Lead
from metaleads.backfill import OVERLAP, backfill_forms, form_backfill, form_due
from metaleads.models import MetaForm, MetaLeadDelivery

from .helpers import FORM_ID, GRAPH, graph_lead, mock_form_name

pytestmark = pytest.mark.django_db
LEADS_URL = f"{GRAPH}/{FORM_ID}/leads"


@pytest.fixture
def form():
    return MetaForm.objects.create(form_id=FORM_ID, name="2BHK enquiry")


def page(leads, after=None):
    body = {"data": leads}
    if after:
        body["paging"] = {"cursors": {"before": "b", "after": after}, "next": f"{LEADS_URL}?after={after}"}
    return body


@responses.activate
def test_a_dropped_delivery_is_recovered_by_the_backfill(form):
    # L1 came by webhook and is done; L2's delivery never arrived.
    responses.get(f"{GRAPH}/L1", json=graph_lead("L1", phone="+919812345601"))
    from metaleads.services import delivery_fetch

    delivery_fetch(delivery_id=MetaLeadDelivery.objects.create(leadgen_id="L1", form_id=FORM_ID).pk)
    responses.get(
        LEADS_URL,
        json=page(
            [
                graph_lead("L2", phone="+919812345602", created_time="2026-11-30T07:05:00+0000"),
                graph_lead("L1", phone="+919812345601", created_time="2026-11-30T07:00:00+0000"),
            ]
        ),
    )
    result = form_backfill(form=form)
    assert (result.seen, result.created, result.error) == (2, 1, "")
    assert set(Lead.objects.values_list("meta_lead_id", flat=True)) == {"L1", "L2"}
    assert MetaLeadDelivery.objects.get(leadgen_id="L2").via == "backfill"
    form.refresh_from_db()
    assert form.watermark == datetime(2026, 11, 30, 7, 5, tzinfo=UTC)
    assert form.last_synced_at is not None and form.last_error == ""


@responses.activate
def test_pages_are_followed_by_cursor_and_filtered_after_the_watermark(form):
    form.watermark = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    form.save()
    responses.get(LEADS_URL, json=page([graph_lead("L3", phone="+919812345603")], after="CUR1"))
    responses.get(LEADS_URL, json=page([graph_lead("L4", phone="+919812345604")]))
    result = form_backfill(form=form)
    assert result.created == 2
    first, second = (parse_qs(urlparse(c.request.url).query) for c in responses.calls if "/leads" in c.request.url)
    rule = json.loads(first["filtering"][0])[0]
    assert rule["field"] == "time_created" and rule["operator"] == "GREATER_THAN"
    assert rule["value"] == int((form.watermark - OVERLAP).timestamp())
    assert "after" not in first and second["after"] == ["CUR1"]


@responses.activate
def test_an_error_part_way_keeps_the_watermark_and_is_shown(form, admin_client_member):
    before = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    form.watermark = before
    form.save()
    responses.get(LEADS_URL, json=page([graph_lead("L5", created_time="2026-11-30T07:30:00+0000")], after="CUR1"))
    responses.get(LEADS_URL, status=400, json={"error": {"message": "User request limit reached", "code": 80005}})
    result = form_backfill(form=form)
    assert "User request limit reached" in result.error
    form.refresh_from_db()
    assert form.watermark == before and form.sync_attempts == 1
    assert "User request limit reached" in admin_client_member.get("/meta-leads-config/").content.decode()
    # The lead read before the error is kept; the next run reads the same range again.
    assert Lead.objects.filter(meta_lead_id="L5").exists()
    responses.replace(responses.GET, LEADS_URL, json=page([graph_lead("L5", created_time="2026-11-30T07:30:00+0000")]))
    # A rate-limited form backs off before its next try.
    assert not form_due(form, now=timezone.now(), interval=300)
    assert form_due(form, now=timezone.now() + timedelta(seconds=301), interval=300)
    assert form_backfill(form=form).created == 0
    form.refresh_from_db()
    assert form.watermark == datetime(2026, 11, 30, 7, 30, tzinfo=UTC) and form.sync_attempts == 0


@responses.activate
def test_a_5xx_keeps_the_watermark(form):
    responses.get(LEADS_URL, status=502, json={"error": {"message": "Bad gateway", "code": 1}})
    assert form_backfill(form=form).error
    form.refresh_from_db()
    assert form.watermark is None and form.last_synced_at is None


@responses.activate
def test_the_backfill_settles_a_delivery_whose_own_fetch_failed(form):
    row = MetaLeadDelivery.objects.create(leadgen_id="L6", form_id=FORM_ID, status="failed", attempts=3)
    responses.get(LEADS_URL, json=page([graph_lead("L6")]))
    assert form_backfill(form=form).created == 1
    row.refresh_from_db()
    assert row.status == "created" and row.lead is not None


@responses.activate
def test_only_due_active_meta_forms_are_read(form):
    now = timezone.now()
    MetaForm.objects.create(form_id="recent", last_synced_at=now - timedelta(seconds=10))
    MetaForm.objects.create(form_id="paused", is_active=False)
    MetaForm.objects.create(form_id="csv-import", backfill=False)
    responses.get(LEADS_URL, json=page([]))
    mock_form_name()
    assert [r.form_id for r in backfill_forms(due_only=True, now=now)] == [FORM_ID]
    responses.get(f"{GRAPH}/recent/leads", json=page([]))
    assert {r.form_id for r in backfill_forms(due_only=False, now=now)} == {FORM_ID, "recent"}


def test_sync_now_reads_every_form(admin_client_member, form):
    with responses.RequestsMock() as mock:
        mock.get(LEADS_URL, json=page([graph_lead("L7")]))
        resp = admin_client_member.post("/meta-leads-config/sync/")
    assert resp.status_code == 302
    assert Lead.objects.filter(meta_lead_id="L7").exists()


def test_sync_now_needs_the_configure_permission(rep_client):
    assert rep_client.post("/meta-leads-config/sync/").status_code == 403
