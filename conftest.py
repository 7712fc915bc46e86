"""Fixtures shared by every app's tests: one member per role, each with a logged-in client."""

from __future__ import annotations

import pytest
from django.test import Client

from crm.models import Role
from crm.tests.factories import LeadFactory, make_member


@pytest.fixture(autouse=True)
def _callkaro_config_cache_cleared():
    """The webhook path caches the Call Karo config for seconds; a row rolled back with its test must not linger."""
    from callkaro.config import config_cache_clear

    config_cache_clear()


@pytest.fixture(autouse=True)
def _inside_calling_hours():
    """AI calls are refused between 21:00 and 09:00 (calling policy). Tests that place calls "now"
    mean a working hour: run at night, the clock is moved to today's noon in India (tests that
    travel in time themselves still do)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine

    ist = ZoneInfo("Asia/Kolkata")
    now = dt.datetime.now(ist)
    if dt.time(9, 30) <= now.time() < dt.time(20, 0):
        yield
        return
    with time_machine.travel(now.replace(hour=12, minute=0), tick=True):
        yield


@pytest.fixture
def rep(db):
    return make_member(Role.REP, username="rep")


@pytest.fixture
def rep2(db):
    return make_member(Role.REP, username="rep2")


@pytest.fixture
def manager(db):
    return make_member(Role.MANAGER, username="manager")


@pytest.fixture
def admin_member(db):
    return make_member(Role.ADMIN, username="admin")


def _client_for(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def rep_client(rep):
    return _client_for(rep)


@pytest.fixture
def rep2_client(rep2):
    return _client_for(rep2)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def admin_client_member(admin_member):
    return _client_for(admin_member)


@pytest.fixture
def lead(rep):
    return LeadFactory(assigned_to=rep)


@pytest.fixture
def other_lead(rep2):
    return LeadFactory(assigned_to=rep2)


def services_available() -> bool:
    """True in the .ci/run pass that points DATABASE_URL at PostgreSQL and REDIS_URL at Redis."""
    from django.conf import settings

    return bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    import os

    if not services_available():
        skip = pytest.mark.skip(reason="needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (.ci/run pass 2)")
        for item in items:
            if "services" in item.keywords:
                item.add_marker(skip)
    if services_available():
        skip = pytest.mark.skip(reason="runs its own SQLite stack: covered by the first .ci/run pass")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)
    if not os.path.exists("/usr/bin/chromium"):
        skip = pytest.mark.skip(reason="Chromium is missing: apt-get install -y chromium (.ci/run does it)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)
