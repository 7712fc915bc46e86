"""A large upload (5 MB, 50,000 rows) is read by a worker; the preview page shows a progress bar meanwhile."""

from __future__ import annotations

import pytest

from callkaro.campaigns import uploads
from callkaro.models import CallKaroCampaign

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]


def _csv(rows: int) -> bytes:
    lines = ["phone,name,plan,notes"]
    lines += [f"+9198{n:08d},Lead number {n},gold,{'x' * 70}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _form(agent, data: bytes) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "name": "Big list",
        "agent": agent.pk,
        "audience_kind": "csv",
        "csv_file": SimpleUploadedFile("big.csv", data, "text/csv"),
        "calling_hours_start": "09:00",
        "calling_hours_end": "21:00",
        "retry_owner": "scheduler",
        "pace_per_minute": 100,
        "max_concurrent": 5,
    }


def test_fifty_thousand_rows_are_read_by_the_worker_with_progress(manager_client, agent, settings, monkeypatch):
    data = _csv(50_000)
    assert len(data) > 5 * 1024 * 1024
    seen: list[dict] = []
    original = uploads._parse_write

    def watch(campaign_id, token, **state):
        seen.append(dict(state))
        return original(campaign_id, token, **state)

    monkeypatch.setattr(uploads, "_parse_write", watch)
    # The request only stores the file and queues the job (the job runs after commit; eagerly here).
    with monkeypatch.context() as held:
        held.setattr("callkaro.tasks.campaign_audience_parse_task.delay", lambda *a: None)
        response = manager_client.post("/campaigns/new/", _form(agent, data))
    draft = CallKaroCampaign.objects.get()
    assert response.status_code == 302
    page = manager_client.get(f"/campaigns/{draft.pk}/preview/").content.decode()
    assert 'id="parse-bar"' in page and "of about 50000 rows" in page
    assert 'hx-trigger="every 1s"' in page

    token = uploads.parse_state(draft)["token"]
    assert uploads.audience_parse_run(campaign_id=draft.pk, token=token) == "done"
    assert [s["done"] for s in seen if "done" in s][:3] == [2000, 4000, 6000]  # the bar moves as rows are read
    polled = manager_client.get(f"/campaigns/{draft.pk}/preview/", headers={"HX-Request": "true"})
    assert polled["HX-Refresh"] == "true"
    page = manager_client.get(f"/campaigns/{draft.pk}/preview/").content.decode()
    assert 'id="preview-figures"' in page and ">50000<" in page.replace(" ", "")
    assert "about 500 min of dialling at 100/min" in page


def test_a_stale_job_does_not_overwrite_a_newer_upload(manager, agent, manager_client, monkeypatch):
    monkeypatch.setattr("callkaro.tasks.campaign_audience_parse_task.delay", lambda *a: None)
    manager_client.post("/campaigns/new/", _form(agent, _csv(6000)))
    draft = CallKaroCampaign.objects.get()
    old = uploads.parse_state(draft)["token"]
    uploads.audience_parse_start(campaign=draft, data=_csv(6000))
    assert uploads.audience_parse_run(campaign_id=draft.pk, token=old) == "stale"
    draft.refresh_from_db()
    assert uploads.parse_state(draft)["state"] == "queued"


def test_a_small_upload_is_read_at_once(manager_client, agent):
    manager_client.post("/campaigns/new/", _form(agent, _csv(10)))
    assert uploads.parse_state(CallKaroCampaign.objects.get()) == {}
