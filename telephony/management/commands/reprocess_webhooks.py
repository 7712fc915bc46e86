"""Re-apply stored, authenticated webhook events. Safe to run any number of times (forward only).

Each row's event, parsed when it arrived, is applied again; ``--reparse`` parses the raw body first
(after a parser fix, say) and keeps the new event on the row.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from telephony.events import webhook_event_reprocess
from telephony.models import ProviderWebhookEvent

Outcome = ProviderWebhookEvent.Outcome


class Command(BaseCommand):
    help = "Re-apply stored webhook events: unmatched (default), failed, or all authenticated ones."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--unmatched", action="store_true", help="Unmatched events (the default).")
        which.add_argument("--failed", action="store_true", help="Events whose apply failed.")
        which.add_argument("--all", action="store_true", help="Every authenticated, non-duplicate event.")
        parser.add_argument("--provider", default="", help="Only this provider (callkaro, acefone).")
        parser.add_argument("--limit", type=int, default=0, help="At most this many events.")
        parser.add_argument(
            "--reparse", action="store_true", help="Parse each stored raw body again instead of using its stored event."
        )

    def handle(self, *args, **options):
        rows = ProviderWebhookEvent.objects.filter(is_authenticated=True).exclude(
            outcome__in=[Outcome.REJECTED, Outcome.DUPLICATE]
        )
        if options["failed"]:
            rows = rows.filter(outcome=Outcome.FAILED)
        elif not options["all"]:
            rows = rows.filter(outcome=Outcome.UNMATCHED)
        if options["provider"]:
            rows = rows.filter(provider=options["provider"])
        ids = list(rows.order_by("received_at", "id").values_list("pk", flat=True))
        if options["limit"]:
            ids = ids[: options["limit"]]
        counts: dict[str, int] = {}
        for pk in ids:
            row = ProviderWebhookEvent.objects.filter(pk=pk).first()
            if row is None:
                continue
            outcome = webhook_event_reprocess(webhook_event=row, reparse=options["reparse"])
            counts[outcome] = counts.get(outcome, 0) + 1
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"Reprocessed {len(ids)} event(s) — {summary}")
