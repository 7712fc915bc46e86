"""Fixtures for journeys through the real app: a running stack and a headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .stack import AppStack, login_session

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    app = AppStack(tmp_path_factory.mktemp("stack"))
    try:
        app.start()
    except Exception:
        print(app.logs())
        app.stop()
        raise
    yield app
    app.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_for(chromium, stack, request):
    """``page_for("rep")``: a logged-in page at laptop size; closed after the test.

    Every page is watched for Content-Security-Policy violations (an inline script or handler, a
    resource from elsewhere): the journey fails on any, so the policy is proven in the browser."""
    contexts = []
    violations: list[str] = []

    def watch(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    def make(username: str, *, width: int = 1366, height: int = 900):
        context = chromium.new_context(viewport={"width": width, "height": height}, base_url=stack.url)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        page.set_default_timeout(20_000)
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def shot(page, name: str) -> Path:
    """A full-page screenshot kept as a test artifact (test-artifacts/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def api_as(stack):
    return lambda username: login_session(stack.url, username)
