"""Calling policy in the browser: an AI call refused outside calling hours and scheduled for the
window's opening in one click, that scheduled call cancelled, and a campaign that pauses (not fails)
when Call Karo stops accepting our key, then resumes once it is fixed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import shot
from .test_journeys import open_lead_in_panel, rep_lead

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _save_calling_hours(page, value: str) -> None:
    page.goto("/callkaro-config/")
    page.fill("input[name=calling_hours]", value)
    page.locator("form[action$='save-callkaro-config/'] button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("settings saved")


@pytest.fixture
def hours_closed_now(page_for, stack):
    """The admin narrows calling hours to a window that has passed today (the stack's zone puts now at
    about noon), and widens them back afterwards."""
    admin = page_for("admin")
    _save_calling_hours(admin, "09:00-10:00")
    yield
    _save_calling_hours(admin, "")


def test_an_ai_call_outside_hours_is_scheduled_in_one_click_then_cancelled(page_for, stack, hours_closed_now):
    page = page_for("rep")
    _, name = rep_lead(stack, skip=5)
    open_lead_in_panel(page, name)
    page.check("input[name=provider][value=callkaro]")
    expect(page.locator("select[name=agent_id]")).to_be_visible()
    page.click("button:has-text('Call with AI agent')")
    result = page.locator("#call-result")
    expect(result).to_contain_text("Outside calling hours")
    schedule = result.locator("button[data-action='schedule-at-opening']")
    expect(schedule).to_contain_text("Schedule for 09:00")
    shot(page, "7-outside-hours-refused")
    schedule.click()
    expect(result).to_contain_text("Call scheduled for")
    scheduled = page.locator("#scheduled-calls .scheduled-call")
    expect(scheduled).to_have_count(1)
    expect(scheduled).to_contain_text("09:00")
    shot(page, "7-scheduled-for-opening")

    page.locator("#scheduled-calls button[data-action='cancel-scheduled-call']").click()
    expect(page.locator("#scheduled-calls")).to_contain_text("cancelled")
    expect(page.locator("#scheduled-calls .scheduled-call")).to_have_count(0)
    shot(page, "7-scheduled-call-cancelled")


@pytest.fixture
def dials_refused(stack):
    """Call Karo refuses our key for dials (as after a revoked key), while campaigns can still be created."""
    stack.manage("sandbox_faults", "callkaro", "--status", "403", "--only-path", "/call/outbound")
    yield
    stack.manage("sandbox_faults", "callkaro", "--clear")


def test_a_campaign_pauses_on_a_revoked_key_and_resumes_after_the_fix(page_for, stack, dials_refused):
    page = page_for("manager")
    page.goto("/campaigns/new/")
    page.fill("input[name=name]", "Negotiation nudge")
    page.select_option("select[name=agent]", index=1)
    page.select_option("select[name=stage]", "negotiation")
    page.fill("input[name=calling_hours_start]", "09:00")
    page.fill("input[name=calling_hours_end]", "21:00")
    page.fill("input[name=pace_per_minute]", "120")
    page.click("button:has-text('Preview')")
    figures = page.locator("#preview-figures")
    expect(figures).to_contain_text("Will be called")
    planned = int(figures.locator(".kpi", has_text="Will be called").locator(".value").inner_text())
    assert planned > 0
    page.click("button:has-text('Launch campaign')")

    reason = page.locator("#campaign-status-reason")
    expect(reason).to_contain_text("refused our credentials", timeout=60_000)
    shot(page, "8-campaign-paused-revoked-key")
    campaign_id = int(page.url.rstrip("/").split("/")[-1])
    rows = stack.query(
        "SELECT status, COUNT(*) FROM callkaro_callkarocalllog WHERE campaign_id = ? GROUP BY status", (campaign_id,)
    )
    assert "failed" not in dict(rows), rows  # paused, not burnt: due rows wait

    stack.manage("sandbox_faults", "callkaro", "--clear")  # the admin fixed the key
    page.locator("#campaign-progress button", has_text="Resume").click()
    expect(page.locator("#campaign-progress progress")).to_have_attribute("value", "100", timeout=90_000)
    shot(page, "8-campaign-resumed-done")
