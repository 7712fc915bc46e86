"""Many new rows at once: COPY on PostgreSQL, chunked bulk_create elsewhere, the same rows either way."""

from __future__ import annotations

import pytest

from callkaro.campaigns.rows import rows_write
from callkaro.models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign
from crm.tests.factories import LeadFactory


def _rows(campaign, leads):
    for lead in leads:
        yield CallKaroCallLog(
            lead=lead,
            to_number=str(lead.phone),
            status="scheduled",
            campaign=campaign,
            agent=campaign.agent,
            metadata_sent={"lead_id": lead.pk, "note": 'tab\there, quote " and \\\\ backslash', "n": [1, None]},
        )


@pytest.mark.django_db
def test_rows_are_written_as_the_orm_writes_them_from_a_generator_read_once():
    agent = CallKaroAgent.objects.create(agent_id="a1", name="A")
    campaign = CallKaroCampaign.objects.create(name="C", agent=agent, status="running")
    leads = [LeadFactory() for _ in range(7)]
    reference = CallKaroCallLog.objects.create(
        lead=leads[0], to_number="x", status="scheduled", campaign=campaign, agent=agent
    )
    assert rows_write(CallKaroCallLog, _rows(campaign, leads), chunk_size=3) == 7
    written = list(CallKaroCallLog.objects.exclude(pk=reference.pk).order_by("pk"))
    assert [w.lead_id for w in written] == [lead.pk for lead in leads]
    first = written[0]
    assert first.metadata_sent == {
        "lead_id": leads[0].pk,
        "note": 'tab\there, quote " and \\\\ backslash',
        "n": [1, None],
    }
    assert first.created_at is not None and first.updated_at is not None
    # Every other column holds the model's default, as for the row the ORM saved.
    skip = {"id", "lead", "to_number", "metadata_sent", "created_at", "updated_at"}
    for row in written:  # every row: repeated values are prepared once and reused
        for field in CallKaroCallLog._meta.concrete_fields:
            if field.name not in skip:
                assert getattr(row, field.attname) == getattr(reference, field.attname), field.name
        assert row.metadata_sent["lead_id"] == row.lead_id


@pytest.mark.services
@pytest.mark.django_db
def test_on_postgresql_the_rows_go_through_copy(monkeypatch):
    from callkaro.campaigns import rows

    used: list[int] = []
    real = rows._copy
    monkeypatch.setattr(rows, "_copy", lambda model, objs: used.append(1) or real(model, objs))
    agent = CallKaroAgent.objects.create(agent_id="a1", name="A")
    campaign = CallKaroCampaign.objects.create(name="C", agent=agent, status="running")
    assert rows_write(CallKaroCallLog, _rows(campaign, [LeadFactory() for _ in range(5)]), chunk_size=2) == 5
    assert used == [1, 1, 1]
    assert CallKaroCallLog.objects.filter(campaign=campaign).count() == 5
