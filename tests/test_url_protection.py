"""Walks every URL pattern: anonymous users are sent to login, except the few public endpoints."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Public by design: login, provider webhooks (their own secret), sandbox (local only), static.
PUBLIC = re.compile(
    r"^/(accounts/login/|admin/login/|callkaro-webhook/|acefone-webhook/|meta-leads-webhook/|sandbox/|static/)"
)


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    route = re.sub(r"<(?:int:)?[^>]+>", "1", route)
    route = re.sub(r"\(\?P<[^>]+>[^)]+\)", "1", route)
    return "/" + route.replace("\\/", "/")


def all_paths() -> list[str]:
    return sorted({_concrete(r) for r in _walk(get_resolver().url_patterns)})


def test_some_routes_are_found():
    assert "/leads/" in all_paths()


@pytest.mark.parametrize("path", all_paths())
def test_anonymous_is_sent_to_login(client, path):
    if PUBLIC.match(path) or "(" in path or "?" in path:
        pytest.skip("public or not a concrete path")
    for method in ("get", "post"):
        resp = getattr(client, method)(path)
        if path.startswith("/admin/"):
            assert resp.status_code in (302, 404), path
            continue
        assert resp.status_code == 302, f"{method.upper()} {path} gave {resp.status_code}"
        assert resp["Location"].startswith(settings.LOGIN_URL), path
