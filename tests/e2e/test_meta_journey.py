"""Speed-to-lead in the browser: a simulated Meta lead arrives on the rep's open call panel and the
AI agent calls it, with nothing reloaded by hand."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from .conftest import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

FINAL_BADGE = ".badge.status-completed, .badge.status-no_answer, .badge.status-busy, .badge.status-failed"


def _newest_meta_lead(stack, known: set[int], timeout: float = 30.0) -> tuple[int, str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = stack.query(
            "SELECT l.id, l.name, u.username FROM crm_lead l JOIN crm_teammember t ON t.id = l.assigned_to_id "
            "JOIN auth_user u ON u.id = t.user_id WHERE l.meta_lead_id != '' ORDER BY l.id DESC LIMIT 5"
        )
        fresh = [row for row in rows if row[0] not in known]
        if fresh:
            return fresh[0]
        time.sleep(0.5)
    raise AssertionError("the simulated Meta lead never became a lead")


def test_a_meta_lead_appears_on_the_reps_panel_and_the_ai_calls_it(page_for, stack):
    # Both reps have their panel open before the lead arrives: round-robin decides whose it is.
    pages = {username: page_for(username) for username in ("rep", "rep2")}
    for page in pages.values():
        page.goto("/call-panel/")
    known = {row[0] for row in stack.query("SELECT id FROM crm_lead")}

    stack.manage("meta_simulate_leads", "1", "--duplicate-rate", "0", "--drop-rate", "0")
    lead_id, name, owner = _newest_meta_lead(stack, known)

    page = pages[owner]
    # The list re-polls itself: the new lead shows up without a reload.
    expect(page.locator("#panel-leads")).to_contain_text(name, timeout=30_000)
    shot(page, "5-meta-lead-arrived")
    page.locator("#panel-leads a", has_text=name).first.click()
    expect(page.locator("#call-box")).to_contain_text(name)
    # The AI agent called it by itself (the stack's zone puts now inside calling hours); the history
    # polls until the sandbox's webhook settles it.
    history = page.locator("#history-wrap")
    expect(history.locator(FINAL_BADGE).first).to_be_visible(timeout=60_000)
    shot(page, "5-meta-lead-called")
    calls = stack.query("SELECT COUNT(*) FROM callkaro_callkarocalllog WHERE lead_id = ?", (lead_id,))
    assert calls[0][0] == 1  # called once, never twice
