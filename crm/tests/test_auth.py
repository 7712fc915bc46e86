import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_and_login_flow(rep):
    client = Client()
    assert client.get(reverse("login")).status_code == 200
    resp = client.post(reverse("login"), {"username": "rep", "password": "pw"})
    assert resp.status_code == 302
    assert client.get(reverse("crm:lead_list")).status_code == 200


def test_wrong_password_shows_message(rep):
    resp = Client().post(reverse("login"), {"username": "rep", "password": "nope"})
    assert "didn't match" in resp.content.decode()


def test_logout_needs_post(rep_client):
    assert rep_client.post(reverse("logout")).status_code == 302
    assert rep_client.get(reverse("crm:lead_list")).status_code == 302


def test_csrf_is_enforced_on_forms(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep.user)
    resp = client.post(reverse("crm:lead_create"), {"name": "X", "phone": "9812345678"})
    assert resp.status_code == 403


def test_role_groups_hold_the_permissions(rep, manager, admin_member):
    assert not rep.user.has_perm("crm.view_all_leads")
    assert manager.user.has_perm("crm.view_all_leads") and manager.user.has_perm("crm.view_dashboard")
    assert not manager.user.has_perm("crm.configure_calling")
    assert admin_member.user.has_perm("crm.configure_calling")


def test_missing_secret_key_stops_start_up_with_debug_off():
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "false", "SECRET_KEY": "", "DJANGO_SETTINGS_MODULE": "crm.settings"}
    proc = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "SECRET_KEY is not set" in proc.stderr
