"""Content-Security-Policy: every page carries a policy without inline script, and no template needs one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from crm.tests.factories import LeadFactory

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + [
    p for p in Path(settings.BASE_DIR).glob("*/templates") if ".venv" not in p.parts
]
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTR = re.compile(r"""\sstyle\s*=\s*["']""", re.IGNORECASE)


def _templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


def _inline_problems(html: str) -> list[str]:
    """Markup the policy would block: executable inline <script>, on*= handlers, style= attributes, javascript: URLs."""
    problems = [
        tag
        for tag in SCRIPT_TAG.findall(html)
        if "src=" not in tag and 'type="application/json"' not in tag and "type='application/json'" not in tag
    ]
    problems += [m.group(0) for m in INLINE_HANDLER.finditer(html)]
    problems += [m.group(0) for m in STYLE_ATTR.finditer(html)]
    problems += re.findall(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", html, re.IGNORECASE)
    return problems


def test_the_template_scan_finds_what_it_looks_for():
    bad = '<script>alert(1)</script><a onclick="x()" style="color:red" href="javascript:x()">'
    assert len(_inline_problems(bad)) == 4
    assert _inline_problems('<script src="/static/a.js" defer></script><script type="application/json">') == []


def test_no_template_has_inline_script_handlers_or_styles():
    templates = _templates()
    assert len(templates) > 20, "the scan found too few templates to prove anything"
    found = {str(p.relative_to(settings.BASE_DIR)): _inline_problems(p.read_text()) for p in templates}
    assert {name: problems for name, problems in found.items() if problems} == {}


@pytest.mark.django_db
def test_pages_carry_a_policy_without_inline_script(admin_client_member, admin_member):
    lead = LeadFactory(assigned_to=admin_member)
    pages = [
        reverse("crm:lead_list"),
        reverse("crm:call_panel") + f"?lead={lead.pk}",
        reverse("crm:lead_detail", args=[lead.pk]),
        reverse("reporting:dashboard"),
        reverse("callkaro:config"),
        reverse("callkaro:campaign_list"),
        reverse("admin:index"),
    ]
    for url in pages:
        resp = admin_client_member.get(url)
        assert resp.status_code == 200, url
        policy = resp["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'", "no inline or eval'd script"
        assert directives["style-src"] == "'self'", "no inline style"
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
        # A provider's https recording must play (found by the browser journeys): media from https hosts only.
        assert directives["media-src"] == "'self' https:"
        assert _inline_problems(resp.content.decode()) == [], url


def test_the_login_page_carries_the_policy(client, db):
    assert "default-src 'self'" in client.get(reverse("login"))["Content-Security-Policy"]
