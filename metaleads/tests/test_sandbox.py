"""The Graph sandbox and the simulator: the whole path offline, dropped deliveries found by backfill."""

from __future__ import annotations

import random
import re
from urllib.parse import urlparse

import pytest
import responses
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import include, path

from crm.models import Lead
from crm.urls import crm_patterns
from metaleads.backfill import backfill_forms
from metaleads.models import MetaLeadDelivery, MetaSandboxLead
from metaleads.simulate import simulate_leads
from telephony.models import SandboxRequest
from telephony.sandbox import sandbox_faults_clear, sandbox_faults_set

from .helpers import PAGE_TOKEN

pytestmark = pytest.mark.django_db
SANDBOX_BASE = "https://crm.sandbox.test/sandbox/meta"

urlpatterns = [
    path("sandbox/meta/", include("metaleads.sandbox_urls")),
    path("", include("metaleads.urls")),
    path("", include((crm_patterns, "crm"))),
]


@pytest.fixture(autouse=True)
def sandbox_on(meta_settings):
    meta_settings.ROOT_URLCONF = __name__
    meta_settings.PROVIDER_SANDBOX = True
    meta_settings.META_GRAPH_BASE_URL = SANDBOX_BASE
    yield
    sandbox_faults_clear("meta")


def _through_django(request):
    """Hand the Graph client's request to the sandbox view in this process (no port needed)."""
    url = urlparse(request.url)
    response = Client().get(
        url.path + (f"?{url.query}" if url.query else ""),
        headers={"Authorization": request.headers.get("Authorization", "")},
    )
    return response.status_code, {"Content-Type": "application/json"}, response.content


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def graph_via_sandbox():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(re.escape(SANDBOX_BASE) + ".*"), callback=_through_django)
        yield mock


def send_with(client: Client):
    def send(body: bytes, headers: dict[str, str]) -> int:
        return client.post("/meta-leads-webhook/", body, content_type="application/json", headers=headers).status_code

    return send


def test_the_whole_path_offline_then_the_backfill_finds_the_dropped(graph_via_sandbox, rep, on_commit):
    with on_commit(execute=True):
        result = simulate_leads(count=12, send=send_with(Client()), rng=random.Random(7), drop_rate=0.3)
    assert result.created == 12 and result.dropped > 0 and result.duplicated > 0
    assert result.posts == 12 - result.dropped + result.duplicated
    assert Lead.objects.count() == 12 - result.dropped  # eager worker: fetched during the POST
    backfill_forms(due_only=False)
    assert Lead.objects.count() == 12
    assert set(Lead.objects.values_list("meta_lead_id", flat=True)) == set(
        MetaSandboxLead.objects.values_list("leadgen_id", flat=True)
    )
    assert MetaLeadDelivery.objects.filter(via="backfill").count() == result.dropped
    assert Lead.objects.filter(assigned_to=rep).count() == 12
    assert Lead.objects.exclude(meta_form_name="").count() == 12
    # The token travelled in a header and is masked in what the sandbox recorded.
    assert not SandboxRequest.objects.filter(path__contains=PAGE_TOKEN).exists()
    assert SandboxRequest.objects.filter(provider="meta").first().headers["Authorization"] != f"Bearer {PAGE_TOKEN}"


def test_the_sandbox_refuses_a_wrong_token_like_graph(client):
    resp = client.get("/sandbox/meta/123", headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == 190


def test_the_sandbox_pages_by_cursor_and_filters_by_time(client):
    simulate_leads(count=5, send=lambda body, headers: 200, rng=random.Random(1), drop_rate=1.0)
    form_id = MetaSandboxLead.objects.first().form_id
    total = MetaSandboxLead.objects.filter(form_id=form_id).count()
    auth = {"Authorization": f"Bearer {PAGE_TOKEN}"}
    first = client.get(f"/sandbox/meta/{form_id}/leads", {"limit": 1}, headers=auth).json()
    assert len(first["data"]) == 1
    if total > 1:
        assert first["paging"]["cursors"]["after"] == "1" and "next" in first["paging"]
    later = '[{"field":"time_created","operator":"GREATER_THAN","value":4102444800}]'
    assert client.get(f"/sandbox/meta/{form_id}/leads", {"filtering": later}, headers=auth).json()["data"] == []


def test_injected_sandbox_faults_reach_the_worker_as_retries(graph_via_sandbox, on_commit):
    sandbox_faults_set("meta", status=503)
    with on_commit(execute=True):
        simulate_leads(count=2, send=send_with(Client()), rng=random.Random(3), drop_rate=0, duplicate_rate=0)
    assert not Lead.objects.exists()
    assert set(MetaLeadDelivery.objects.values_list("status", flat=True)) == {"failed"}
    sandbox_faults_clear("meta")
    backfill_forms(due_only=False)
    assert Lead.objects.count() == 2


def test_the_command_refuses_without_the_sandbox(meta_settings):
    meta_settings.PROVIDER_SANDBOX = False
    with pytest.raises(CommandError):
        call_command("meta_simulate_leads", "3")


def test_a_fault_with_an_error_rate_fails_only_that_share_and_latency_can_vary(client, monkeypatch):
    from telephony import sandbox

    simulate_leads(count=1, send=lambda body, headers: 200, rng=random.Random(2), drop_rate=1.0)
    lead_id = MetaSandboxLead.objects.get().leadgen_id
    slept: list[float] = []
    monkeypatch.setattr(sandbox.time, "sleep", slept.append)
    sandbox_faults_set("meta", latency_ms=300, latency_ms_max=2000, status=500, error_rate=0.25)
    auth = {"Authorization": f"Bearer {PAGE_TOKEN}"}
    codes = [client.get(f"/sandbox/meta/{lead_id}", headers=auth).status_code for _ in range(200)]
    assert set(codes) == {200, 500}
    assert 20 <= codes.count(500) <= 80  # about a quarter
    assert all(0.3 <= s <= 2.0 for s in slept) and max(slept) - min(slept) > 0.5
