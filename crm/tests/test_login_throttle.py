"""Login throttling (django-axes): repeated failures lock an account, and separately an IP, for a while."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse

from crm.client_ip import client_ip

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def throttled(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    settings.TRUSTED_PROXY_COUNT = 0


def _login(url: str, username: str, password: str, ip: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(url, {"username": username, "password": password})


def _fail(url: str, username: str, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        assert _login(url, username, "wrong", ip).status_code == 200


def test_an_account_is_locked_after_repeated_failures_with_a_clear_message(rep):
    url = reverse("login")
    _fail(url, "rep", LIMIT - 1)
    resp = _login(url, "rep", "wrong")
    assert resp.status_code == 429
    page = resp.content.decode()
    assert "Too many failed sign-ins" in page and "15 minutes" in page
    # Locked even with the right password, and from another address.
    assert _login(url, "rep", "pw", ip="10.9.9.9").status_code == 429


def test_an_ip_is_locked_after_failures_across_accounts(rep, rep2):
    url = reverse("login")
    for n in range(LIMIT):
        _login(url, f"nobody{n}", "wrong", ip="10.0.0.7")
    assert _login(url, "rep2", "pw", ip="10.0.0.7").status_code == 429
    assert _login(url, "rep2", "pw", ip="10.0.0.8").status_code == 302


def test_the_lock_ends_after_the_cool_off(rep):
    url = reverse("login")
    with time_machine.travel(dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC), tick=False):
        _fail(url, "rep", LIMIT - 1)
        assert _login(url, "rep", "wrong").status_code == 429
        assert _login(url, "rep", "pw").status_code == 429
    with time_machine.travel(dt.datetime(2026, 1, 5, 10, 16, tzinfo=dt.UTC), tick=False):
        assert _login(url, "rep", "pw").status_code == 302


def test_a_success_before_the_limit_clears_the_failures(rep):
    url = reverse("login")
    _fail(url, "rep", LIMIT - 1)
    assert _login(url, "rep", "pw").status_code == 302
    _fail(url, "rep", LIMIT - 1)
    assert _login(url, "rep", "pw").status_code == 302


def test_the_admin_login_is_throttled_too(admin_member):
    url = reverse("admin:login")
    for _ in range(LIMIT):
        _login(url, "admin", "wrong")
    resp = _login(url, "admin", "pw")
    assert resp.status_code == 429 and "Too many failed sign-ins" in resp.content.decode()


def test_client_ip_trusts_only_our_own_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # what our proxy saw; 6.6.6.6 is the client's claim
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"
