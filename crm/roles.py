"""Roles are Django groups with permissions; the server checks permissions, never role names."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from .models import Role

_REP = [
    "crm.view_lead",
    "crm.add_lead",
    "crm.change_lead",
    "crm.view_leadnote",
    "crm.add_leadnote",
]
_MANAGER = [
    *_REP,
    "crm.view_all_leads",
    "crm.view_dashboard",
    "crm.manage_campaigns",
    "crm.view_teammember",
    "crm.clear_do_not_call",
]
_ADMIN = [*_MANAGER, "crm.configure_calling", "crm.change_teammember", "crm.add_teammember"]

ROLE_PERMISSIONS: dict[str, list[str]] = {Role.REP: _REP, Role.MANAGER: _MANAGER, Role.ADMIN: _ADMIN}


def sync_role_groups() -> None:
    """Create or refresh one group per role with exactly its permissions."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def sync_role_groups_after_migrate(**kwargs: Any) -> None:
    sync_role_groups()
