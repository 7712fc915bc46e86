"""Issue 16's journeys in Chromium against the running app and its sandbox: reading an AI outcome, a human
call's wrap-up that lands in My day, the call flow on a 390 px phone with no page scrolling sideways, and
axe-core on every main page (serious or critical violations fail).

Run alone with a port range of its own: ``E2E_BASE_PORT=8600 pytest tests/e2e/test_day.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import shot
from .test_journeys import rep_lead

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.10.3.min.js"
FINAL = ".call-outcome"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def day_page(chromium, stack):
    """``day_page("rep", width=390)``: a logged-in page; CSP bypassed only so axe can be injected."""
    contexts = []

    def make(username: str, *, width: int = 1366, height: int = 900):
        context = chromium.new_context(viewport={"width": width, "height": height}, base_url=stack.url, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
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


def lead_ids(stack, username: str) -> list[tuple[int, str]]:
    return stack.query(
        "SELECT l.id, l.name FROM crm_lead l JOIN crm_teammember t ON t.id = l.assigned_to_id "
        "JOIN auth_user u ON u.id = t.user_id WHERE u.username = ? AND l.stage = 'new' AND NOT l.do_not_call "
        "ORDER BY l.id DESC",
        (username,),
    )


def never_called(stack, username: str) -> list[int]:
    """The rep's new leads with no AI call yet: the minimum gap between AI calls cannot refuse them."""
    called = {row[0] for row in stack.query("SELECT DISTINCT lead_id FROM callkaro_callkarocalllog", ())}
    return [lead_id for lead_id, _ in lead_ids(stack, username) if lead_id not in called]


@pytest.fixture
def connected_calls(stack):
    """The sandbox connects every AI call (it picks an outcome at random otherwise)."""
    stack.manage("sandbox_faults", "callkaro", "--outcome", "connected")
    yield
    stack.manage("sandbox_faults", "callkaro", "--clear")


def test_rep_reads_an_ai_outcome_card_transcript_and_recording(day_page, stack, connected_calls):
    page = day_page("rep")
    for lead_id in never_called(stack, "rep")[:3]:
        page.goto(f"/call-panel/?lead={lead_id}#call-box")
        page.check("input[name=provider][value=callkaro]")
        button = page.locator("button:has-text('Call with AI agent')")
        button.click()
        expect(page.locator("#call-result .badge")).to_have_count(1)
        outcome = page.locator("#history-wrap .call-item").first.locator(FINAL)
        expect(outcome).to_be_visible(timeout=60_000)
        if page.locator("#history-wrap .call-item").first.locator("details.transcript").count():
            break
    else:
        pytest.fail("no AI call connected in three tries, with the sandbox connecting every call")
    item = page.locator("#history-wrap .call-item").first
    text = item.locator(FINAL).inner_text()
    assert "_" not in text and not text.isupper()  # words, never a raw code such as CLIENT_INITIATED
    expect(item.locator(".outcome-card")).to_contain_text("Summary")
    transcript = item.locator("details.transcript")
    expect(transcript).not_to_have_attribute("open", "")  # collapsed by default
    expect(item.locator("li.turn").first).to_be_hidden()
    expect(item.locator("audio[controls]")).to_have_attribute("src", re.compile(r"^https://"))
    transcript.locator("summary").click()
    expect(item.locator("li.turn-agent").first).to_be_visible()
    expect(item.locator("li.turn-customer").first).to_be_visible()
    shot(page, "day-1-ai-outcome")
    page.goto(f"/leads/{lead_id}/")
    expect(page.locator("#call-history .outcome-card").first).to_be_visible()
    shot(page, "day-1-ai-outcome-lead-page")


def test_a_human_calls_wrap_up_creates_a_follow_up_that_appears_in_my_day(day_page, stack):
    page = day_page("rep")
    lead_id, name = lead_ids(stack, "rep")[-1]
    page.goto(f"/call-panel/?lead={lead_id}#call-box")
    page.check("input[name=provider][value=acefone]")
    page.click("#call-options button:has-text('Call now')")
    expect(page.locator("#call-result")).to_contain_text("Acefone is ringing your phone")
    wrap = page.locator("details.wrap-up").first
    expect(wrap).to_be_visible(timeout=60_000)
    if wrap.get_attribute("open") is None:
        wrap.locator("summary").click()  # the rep says the call ended before the webhook does
    local_now = dt.datetime.now(ZoneInfo("Asia/Kolkata")).strftime("%Y-%m-%dT%H:%M")
    wrap.locator("select[name$='-disposition']").select_option(label="Call back later")
    wrap.locator("textarea[name$='-note']").fill("Wants the brochure first")
    wrap.locator("input[name$='-follow_up_at']").fill(local_now)
    shot(page, "day-2-wrap-up-form")
    wrap.locator("button:has-text('Save wrap-up')").click()
    expect(page.locator("details.wrap-up")).to_have_count(0)
    ref = stack.query("SELECT source, call_ref FROM crm_followup WHERE lead_id = ?", (lead_id,))
    assert ref and ref[0][0] == "wrap_up" and ref[0][1].startswith("acefone:")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/my-day/$"))
    due = page.locator("section[aria-labelledby=h-due]")
    expect(due).to_contain_text(name)
    expect(due).to_contain_text("Wants the brochure first")
    due.locator("a[role=button]", has_text="Call").first.click()
    expect(page.locator("#call-box")).to_contain_text(name)
    page.goto("/my-day/")
    shot(page, "day-2-my-day")


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def test_the_mobile_call_flow_at_390_px(day_page, stack):
    page = day_page("rep", **PHONE)
    _, name = rep_lead(stack, skip=5)
    page.goto("/call-panel/")
    page.fill("input[name=q]", name)
    expect(page.locator("#panel-leads tbody a")).to_have_count(1)
    page.locator("#panel-leads a", has_text=name).click()
    expect(page.locator("#call-box")).to_contain_text(name)
    expect(page.locator("#call-box")).to_be_in_viewport()
    expect(page.locator("#call-box a[href^='tel:']")).to_be_visible()
    page.check("input[name=provider][value=acefone]")
    expect(page.locator("#call-options button:has-text('Call now')")).to_be_in_viewport()
    page.check("input[name=provider][value=callkaro]")
    expect(page.locator("select[name=agent_id]")).to_be_visible()
    expect(page.locator("button:has-text('Call with AI agent')")).to_be_in_viewport()
    assert no_sideways_scroll(page)
    shot(page, "day-3-mobile-call-panel")


MAIN_PAGES = {
    "rep": ["/my-day/", "/call-panel/", "/leads/", "/leads/new/", "/campaigns/"],
    "manager": ["/callkaro-dashboard/", "/callkaro-dashboard/funnel/", "/lead-import/", "/leads/"],
    "admin": ["/callkaro-config/", "/meta-leads-config/"],
}


def lead_page(stack) -> str:
    return f"/leads/{rep_lead(stack)[0]}/"


@pytest.mark.parametrize("username", list(MAIN_PAGES))
def test_no_main_page_scrolls_sideways_on_a_phone(day_page, stack, username):
    page = day_page(username, **PHONE)
    paths = [*MAIN_PAGES[username], *([lead_page(stack)] if username == "rep" else [])]
    wide = []
    for path in paths:
        response = page.goto(path)
        assert response.status < 400, path
        if not no_sideways_scroll(page):
            wide.append(path)
            shot(page, "day-3-too-wide-" + path.strip("/").replace("/", "-"))
    assert wide == [], f"these pages scroll sideways at 390 px: {wide}"
    if username == "admin":
        shot(page, "day-3-mobile-config")


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("username", list(MAIN_PAGES))
def test_axe_finds_no_serious_violation_on_the_main_pages(day_page, stack, username):
    page = day_page(username)
    paths = [*MAIN_PAGES[username], *([lead_page(stack)] if username == "rep" else [])]
    found = {}
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    assert found == {}, json.dumps(found, indent=1)


def test_keyboard_reaches_the_content_and_a_call_in_few_steps(day_page, stack):
    page = day_page("rep")
    lead_id, name = lead_ids(stack, "rep")[0]
    page.goto("/my-day/")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(3):  # the first "Call" button of the queue is a few tabs into the content
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('role') === 'button'"):
            break
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Call"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(page.locator("#call-box")).to_be_visible()
    shot(page, "day-5-keyboard-call-box")
