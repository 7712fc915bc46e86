"""The AI agent knows whom it calls: the lead's name travels in the call's metadata, and the
sandbox's agent greets by it, so the transcript the rep reads names the lead."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import shot
from .test_journeys import open_lead_in_panel, rep_lead

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def connected_calls(stack):
    stack.manage("sandbox_faults", "callkaro", "--outcome", "connected")
    yield
    stack.manage("sandbox_faults", "callkaro", "--clear")


def test_the_ai_calls_transcript_greets_the_lead_by_name(page_for, stack, connected_calls):
    page = page_for("rep")
    _, name = rep_lead(stack, skip=3)
    open_lead_in_panel(page, name)
    page.check("input[name=provider][value=callkaro]")
    expect(page.locator("select[name=agent_id]")).to_be_visible()
    page.click("button:has-text('Call with AI agent')")
    history = page.locator("#history-wrap")
    expect(history.locator(".badge.status-completed").first).to_be_visible(timeout=60_000)
    transcript = history.locator("details", has_text="Transcript").first
    transcript.locator("summary").click()
    expect(transcript).to_contain_text(name.split()[0])
    shot(page, "6-ai-transcript-names-the-lead")
