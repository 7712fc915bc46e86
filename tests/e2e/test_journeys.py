"""The five journeys of issue 8, clicked through in Chromium against the running app and its sandbox."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

FINAL_BADGE = ".badge.status-completed, .badge.status-no_answer, .badge.status-busy, .badge.status-failed"


def rep_lead(stack, username: str = "rep", *, stage: str = "new", skip: int = 0) -> tuple[int, str]:
    """A callable lead of ``username`` whose name is unique among their leads (so a search finds one)."""
    rows = stack.query(
        "SELECT l.id, l.name FROM crm_lead l JOIN crm_teammember t ON t.id = l.assigned_to_id "
        "JOIN auth_user u ON u.id = t.user_id WHERE u.username = ? AND l.stage = ? AND NOT l.do_not_call "
        "AND l.name IN (SELECT name FROM crm_lead GROUP BY name HAVING COUNT(*) = 1) ORDER BY l.id",
        (username, stage),
    )
    return rows[skip]


def open_lead_in_panel(page, name: str) -> None:
    page.goto("/call-panel/")
    page.fill("input[name=q]", name)
    # Wait for the search's own list (only this lead), so the click is not on a row being swapped out.
    expect(page.locator("#panel-leads tbody a")).to_have_count(1)
    link = page.locator("#panel-leads a", has_text=name)
    link.click()
    expect(page.locator("#call-box")).to_contain_text(name)


def test_rep_calls_with_the_ai_agent_then_with_acefone(page_for, stack):
    page = page_for("rep")
    _, name = rep_lead(stack, skip=0)
    open_lead_in_panel(page, name)
    page.check("input[name=provider][value=callkaro]")
    expect(page.locator("select[name=agent_id]")).to_be_visible()  # the agent picker appears
    shot(page, "1-rep-call-panel-ai")
    page.click("button:has-text('Call with AI agent')")
    expect(page.locator("#call-result .badge")).to_be_visible()
    # The history refreshes by itself (htmx polling) until the sandbox's webhook settles the call.
    expect(page.locator("#history-wrap").locator(FINAL_BADGE).first).to_be_visible(timeout=60_000)
    shot(page, "1-rep-ai-call-final")

    _, other = rep_lead(stack, skip=1)
    open_lead_in_panel(page, other)
    page.check("input[name=provider][value=acefone]")
    expect(page.locator("#call-options")).to_contain_text("Acefone rings your number")
    page.click("#call-options button:has-text('Call now')")
    expect(page.locator("#call-result .badge")).to_be_visible()
    expect(page.locator("#history-wrap")).to_contain_text("Acefone")
    shot(page, "1-rep-acefone-call")


def test_fallback_to_acefone_when_call_karo_is_down(page_for, stack):
    page = page_for("rep")
    _, name = rep_lead(stack, skip=2)
    stack.manage("sandbox_faults", "callkaro", "--status", "503")
    try:
        open_lead_in_panel(page, name)
        page.check("input[name=provider][value=callkaro]")
        page.click("button:has-text('Call with AI agent')")
        fallback = page.locator("#call-result button", has_text="Acefone")
        expect(fallback).to_be_visible()
        expect(page.locator("#call-result")).to_contain_text(re.compile("unavailable|not reachable|down", re.I))
        shot(page, "2-fallback-offered")
        fallback.click()
        expect(page.locator("#call-result .badge.status-initiated")).to_be_visible()
        shot(page, "2-fallback-acefone-placed")
    finally:
        stack.manage("sandbox_faults", "callkaro", "--clear")
    calls = stack.query(
        "SELECT COUNT(*) FROM acefone_acefonecalllog a JOIN crm_lead l ON l.id = a.lead_id WHERE l.name = ?", (name,)
    )
    assert calls[0][0] == 1


def test_admin_configures_key_secret_and_agent_and_the_rep_sees_it(page_for, stack):
    admin = page_for("admin")
    admin.goto("/callkaro-config/")
    admin.fill("input[name=api_key]", "e2e-live-key-7c1d")
    admin.click("button:has-text('Save')")
    expect(admin.locator("body")).to_contain_text("••••7c1d")
    assert "e2e-live-key-7c1d" not in admin.content()
    admin.click("button:has-text('Generate')")
    # The secret goes in a header; the URL with the secret in it is only the folded-away fallback.
    expect(admin.locator("input[aria-label='Webhook secret']")).to_have_value(re.compile(r".{16,}"))
    expect(admin.locator("#new-webhook-url")).to_contain_text("X-Webhook-Token")
    fallback = admin.locator("input[aria-label='Webhook URL with the secret']")
    expect(fallback).to_have_value(re.compile(r"/callkaro-webhook/\?token=.{16,}"))
    shot(admin, "3-admin-config")
    admin.locator("summary", has_text="Add an agent").click()
    admin.fill("input[name=agent_id]", "e2e-meera-ta")
    admin.fill("input[name=name]", "Meera – Tamil renewals")
    admin.select_option("select[name=language]", "ta")
    admin.click("button:has-text('Add agent')")
    row = admin.locator("tr", has_text="Meera – Tamil renewals")
    expect(row).to_be_visible()
    row.locator("a", has_text="Edit / assign").click()
    admin.locator("label", has_text="Rohan Rep").locator("input").check()
    admin.click("button:has-text('Save assignment')")
    expect(admin.locator("body")).to_contain_text("Rohan Rep")
    shot(admin, "3-admin-agent-assigned")

    rep = page_for("rep")
    lead_id, _ = rep_lead(stack, skip=3)
    rep.goto(f"/call-panel/?lead={lead_id}")
    rep.check("input[name=provider][value=callkaro]")
    expect(rep.locator("select[name=agent_id]")).to_contain_text("Meera – Tamil renewals")
    rep2 = page_for("rep2")
    other_id, _ = rep_lead(stack, "rep2")
    rep2.goto(f"/call-panel/?lead={other_id}")
    rep2.check("input[name=provider][value=callkaro]")
    expect(rep2.locator("select[name=agent_id]")).not_to_contain_text("Meera – Tamil renewals")


def _dashboard_calls(page) -> int:
    page.goto("/callkaro-dashboard/?period=today")
    card = page.locator(".kpi", has_text=re.compile("^\\s*Calls", re.I)).first
    return int(re.sub(r"\D", "", card.locator(".value").inner_text()) or 0)


def test_manager_runs_a_campaign_and_watches_it_finish(page_for, stack):
    page = page_for("manager")
    before = _dashboard_calls(page)
    page.goto("/campaigns/new/")
    page.fill("input[name=name]", "Site-visit follow-up")
    page.select_option("select[name=agent]", index=1)
    page.select_option("select[name=stage]", "site_visit")
    page.fill("input[name=calling_hours_start]", "09:00")
    page.fill("input[name=calling_hours_end]", "21:00")
    page.fill("input[name=pace_per_minute]", "120")
    page.fill("input[name=max_concurrent]", "20")
    page.click("button:has-text('Preview')")
    figures = page.locator("#preview-figures")
    expect(figures).to_contain_text("Will be called")
    eligible = int(figures.locator(".kpi", has_text="Will be called").locator(".value").inner_text())
    assert eligible > 0
    shot(page, "4-campaign-preview")
    page.click("button:has-text('Launch campaign')")
    progress = page.locator("#campaign-progress")
    expect(progress).to_be_visible()
    pause = progress.locator("button", has_text="Pause")
    if pause.count():
        pause.click()
        expect(progress.locator("button", has_text="Resume")).to_be_visible()
        shot(page, "4-campaign-paused")
        progress.locator("button", has_text="Resume").click()
    expect(page.locator("#campaign-progress progress")).to_have_attribute("value", "100", timeout=90_000)
    expect(progress.locator(".badge").first).to_have_text("Completed", timeout=30_000)
    shot(page, "4-campaign-done")
    deadline = time.monotonic() + 30
    after = before
    while time.monotonic() < deadline and after < before + eligible:
        after = _dashboard_calls(page)
    assert after >= before + eligible
    shot(page, "4-dashboard")


@pytest.mark.parametrize("path", ["/callkaro-config/", "/callkaro-dashboard/"])
def test_rep_is_refused_politely(page_for, path):
    page = page_for("rep")
    response = page.goto(path)
    assert response.status == 403
    expect(page.locator("h1")).to_contain_text("You don't have access")
    shot(page, "5-rep-refused" + path.replace("/", "-").rstrip("-"))


def test_pages_fit_a_phone(page_for, stack):
    page = page_for("rep", width=390, height=844)
    lead_id, _ = rep_lead(stack, skip=4)
    page.goto(f"/call-panel/?lead={lead_id}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 420, f"the call panel scrolls sideways on a phone ({width}px)"
    shot(page, "6-call-panel-phone")
