"""Signals other apps connect to in their ``AppConfig.ready()`` (docs/architecture.md, "Extension points")."""

from django.dispatch import Signal

#: Sent after commit when a call turns final (again, for a newer provider try), once its lead is updated.
#: Keyword arguments: ``provider`` (the short name) and ``call_log``; the sender is the provider class.
#: Receivers must be idempotent; a failing one is logged and the others still run.
call_became_final = Signal()

#: Sent when a worker's dial was refused for a reason that is ours to fix, not the call's: the provider
#: refused our credentials (401/403), the agent no longer exists, or calling is switched off. Arguments:
#: ``provider``, ``call_log``, ``reason``. A receiver that holds the call (a campaign that pauses) returns
#: True: the row then goes back to ``scheduled`` instead of failing.
call_blocked = Signal()
