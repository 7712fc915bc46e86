"""Acefone's part of the calling settings page: the token shown masked, each rep's number editable by an admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

TOKEN = "acefone-token-9z8y"


@pytest.fixture(autouse=True)
def _env(settings):
    settings.ACEFONE_API_TOKEN = ""


def test_acefone_token_is_shown_masked_and_agent_numbers_are_editable(admin_client_member, rep, settings):
    settings.ACEFONE_API_TOKEN = TOKEN
    page = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert "••••9z8y" in page and TOKEN not in page
    url = reverse("acefone:set_agent_number", args=[rep.pk])
    assert url == f"/callkaro-config/acefone-number/{rep.pk}/"
    assert f'action="{url}"' in page
    assert admin_client_member.post(url, {"acefone_agent_number": "0602 999 111"}).status_code == 302
    rep.refresh_from_db()
    assert rep.acefone_agent_number == "0602999111"
    resp = admin_client_member.post(url, {"acefone_agent_number": "call-me"}, follow=True)
    assert "Digits only" in resp.content.decode()
    assert resp.redirect_chain[-1][0] == reverse("callkaro:config")
    rep.refresh_from_db()
    assert rep.acefone_agent_number == "0602999111"


def test_a_blank_number_clears_it(admin_client_member, rep):
    url = reverse("acefone:set_agent_number", args=[rep.pk])
    assert admin_client_member.post(url, {"acefone_agent_number": ""}).status_code == 302
    rep.refresh_from_db()
    assert rep.acefone_agent_number == ""


def test_unset_acefone_token_is_reported(admin_client_member):
    body = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert "not set: add the API token" in body
    assert "ACEFONE_API_TOKEN" not in body  # people read words, not environment variable names


@pytest.mark.parametrize("who", ["rep_client", "manager_client"])
def test_non_admins_cannot_set_a_number(request, who, rep):
    client = request.getfixturevalue(who)
    url = reverse("acefone:set_agent_number", args=[rep.pk])
    before = rep.acefone_agent_number
    assert client.post(url, {"acefone_agent_number": "0602000001"}).status_code == 403
    rep.refresh_from_db()
    assert rep.acefone_agent_number == before


def test_anonymous_is_sent_to_login(rep):
    resp = Client().post(reverse("acefone:set_agent_number", args=[rep.pk]), {"acefone_agent_number": "1234"})
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
