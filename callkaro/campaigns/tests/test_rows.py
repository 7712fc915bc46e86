"""Many new rows at once: COPY on PostgreSQL, chunked bulk_create elsewhere, the same rows either way."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callkaro.campaigns.rows import rows_write
from callkaro.models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign
from crm.tests.factories import LeadFactory

NOTE = 'tab\there, quote " and \\\\ backslash'
VARYING = ("lead_id", "to_number", "metadata_sent")


def _columns():
    return [f for f in CallKaroCallLog._meta.concrete_fields if not f.primary_key]


def _template(campaign) -> CallKaroCallLog:
    return CallKaroCallLog(
        status="scheduled", campaign=campaign, agent=campaign.agent, attempt=2, priority=7, metadata_sent={"x": 1}
    )


def _values(leads):
    for lead in leads:  # a generator, read once
        yield lead.pk, str(lead.phone), {"lead_id": lead.pk, "note": NOTE, "n": [1, None]}


@pytest.mark.django_db
def test_rows_take_their_own_values_and_every_other_column_as_the_orm_writes_the_template():
    agent = CallKaroAgent.objects.create(agent_id="a1", name="A")
    campaign = CallKaroCampaign.objects.create(name="C", agent=agent, status="running")
    leads = [LeadFactory() for _ in range(5)]
    template = _template(campaign)
    reference = CallKaroCallLog.objects.create(
        lead=leads[0], **{f.attname: getattr(template, f.attname) for f in _columns() if f.attname != "lead_id"}
    )
    with CaptureQueriesContext(connection) as ctx:
        assert rows_write(CallKaroCallLog, template, VARYING, _values(leads), chunk_size=2) == 5
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "callkaro_callkarocalllog"')]
    assert len(inserts) == (0 if connection.vendor == "postgresql" else 3)  # COPY is no query
    written = list(CallKaroCallLog.objects.exclude(pk=reference.pk).order_by("pk"))
    assert [(w.lead_id, w.to_number, w.metadata_sent) for w in written] == [
        (lead.pk, str(lead.phone), {"lead_id": lead.pk, "note": NOTE, "n": [1, None]}) for lead in leads
    ]
    for row in written:  # every other column: the template's, as for the row the ORM saved
        assert row.created_at is not None and row.updated_at is not None
        for field in _columns():
            if field.attname not in {*VARYING, "created_at", "updated_at"}:
                assert getattr(row, field.attname) == getattr(reference, field.attname), field.name


@pytest.mark.services
@pytest.mark.django_db
def test_on_postgresql_the_rows_go_through_copy(monkeypatch):
    from callkaro.campaigns import rows

    used: list[int] = []
    real = rows._copy
    monkeypatch.setattr(rows, "_copy", lambda *args: used.append(1) or real(*args))
    agent = CallKaroAgent.objects.create(agent_id="a1", name="A")
    campaign = CallKaroCampaign.objects.create(name="C", agent=agent, status="running")
    leads = [LeadFactory() for _ in range(5)]
    assert rows_write(CallKaroCallLog, _template(campaign), VARYING, _values(leads), chunk_size=2) == 5
    assert used == [1, 1, 1]
    assert CallKaroCallLog.objects.filter(campaign=campaign).count() == 5
