"""What must never run in production: the benchmark endpoints (seed_demo's guard is in test_seed_demo)."""

from __future__ import annotations

import importlib

import pytest
from django.core.checks import run_checks
from django.test import Client, override_settings
from django.urls import clear_url_caches

import crm.urls


@pytest.fixture
def reload_urls():
    """Re-read crm.urls under the test's settings, and again after them (override_settings has ended by then)."""

    def reload():
        clear_url_caches()
        importlib.reload(crm.urls)

    yield reload
    reload()
    assert not any(str(p.pattern) == "bench/" for p in crm.urls.urlpatterns)


def _check_ids() -> set[str]:
    return {message.id for message in run_checks()}


@pytest.mark.django_db
def test_bench_endpoints_are_not_mounted_and_fail_the_checks_with_debug_off(reload_urls):
    with override_settings(BENCH_ENDPOINTS=True, DEBUG=False):
        reload_urls()
        assert not any(str(p.pattern) == "bench/" for p in crm.urls.urlpatterns)
        assert Client().post("/bench/bare/").status_code in {302, 404}
        assert "crm.E001" in _check_ids()


@pytest.mark.django_db
def test_bench_endpoints_mount_with_debug_on(reload_urls):
    with override_settings(BENCH_ENDPOINTS=True, DEBUG=True):
        reload_urls()
        assert any(str(p.pattern) == "bench/" for p in crm.urls.urlpatterns)
        assert "crm.E001" not in _check_ids()


def test_the_bench_settings_mount_them_without_tripping_the_check():
    bench_settings = importlib.import_module("bench.settings")
    assert bench_settings.ROOT_URLCONF == "bench.root_urls" and not bench_settings.BENCH_ENDPOINTS
    root = importlib.import_module("bench.root_urls")
    assert any(str(p.pattern) == "bench/" for p in root.urlpatterns)
