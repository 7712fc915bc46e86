"""Meta's secrets never show: not on pages, not in stored errors, not in logs, not in URLs sent."""

from __future__ import annotations

import logging

import pytest
import responses

from metaleads.models import MetaForm, MetaLeadDelivery, MetaLeadsConfig
from metaleads.services import delivery_fetch

from .helpers import GRAPH

pytestmark = pytest.mark.django_db
TOKEN = "EAAGsaved-page-token-ABCDEF123456"
APP_SECRET = "saved-app-secret-0987654321"


@responses.activate
def test_saved_secrets_do_not_leak_through_errors_pages_or_logs(admin_client_member, caplog):
    caplog.set_level(logging.INFO)
    admin_client_member.post(
        "/meta-leads-config/save/",
        {
            "page_access_token": TOKEN,
            "app_secret": APP_SECRET,
            "graph_base_url": GRAPH,
            "backfill_interval": "300",
            "speed_to_lead_agent_id": "",
            "metadata_answer_keys": "",
        },
    )
    # Graph echoes the token in its error (it has happened): the stored and shown message is masked.
    responses.get(
        f"{GRAPH}/L1", status=400, json={"error": {"message": f"Malformed access token {TOKEN}", "code": 190}}
    )
    responses.get(f"{GRAPH}/F1/leads", status=500, json={"error": {"message": f"oops {TOKEN}", "code": 2}})
    delivery_fetch(delivery_id=MetaLeadDelivery.objects.create(leadgen_id="L1", form_id="F1").pk)
    from metaleads.backfill import backfill_forms

    MetaForm.objects.filter(form_id="F1").update(name="Form one")
    backfill_forms(due_only=False)
    assert all(TOKEN in c.request.headers["Authorization"] for c in responses.calls)
    assert not any(TOKEN in c.request.url for c in responses.calls)

    page = admin_client_member.get("/meta-leads-config/").content.decode()
    stored = [
        *MetaLeadDelivery.objects.values_list("error", flat=True),
        *MetaForm.objects.values_list("last_error", flat=True),
        *MetaLeadsConfig.objects.values_list("last_error", flat=True),
        *MetaLeadsConfig.objects.values_list("page_access_token_encrypted", flat=True),
        *MetaLeadsConfig.objects.values_list("app_secret_encrypted", flat=True),
    ]
    logs = [record.getMessage() for record in caplog.records]
    for secret in (TOKEN, APP_SECRET):
        assert secret not in page
        assert not [text for text in stored if secret in text]
        assert not [text for text in logs if secret in text]
    assert "Malformed access token" in page
