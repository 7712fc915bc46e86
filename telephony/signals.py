"""Signals other apps connect to in their ``AppConfig.ready()`` (docs/architecture.md, "Extension points")."""

from django.dispatch import Signal

#: Sent after commit when a call turns final (again, for a newer provider try), once its lead is updated.
#: Keyword arguments: ``provider`` (the short name) and ``call_log``; the sender is the provider class.
#: Receivers must be idempotent; a failing one is logged and the others still run.
call_became_final = Signal()
