"""Request guards of the CRM core."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from .selectors import team_member_for


class InactiveMemberLogoutMiddleware:
    """Log out a signed-in user whose team member is switched off, before any view runs.

    ``team_member_set_active`` already ends their sessions and deactivates the user; this also
    covers a flag flipped some other way (a bulk update, the shell). The login-required
    middleware after it then sends them to the login page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            member = team_member_for(user)
            if member is not None and not member.is_active:
                logout(request)
        return self.get_response(request)
