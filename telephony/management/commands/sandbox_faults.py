"""Switch the local provider sandboxes' faults on or off while the app runs (demos, browser tests)."""

from django.core.management.base import BaseCommand, CommandError

from telephony.sandbox import sandbox_faults, sandbox_faults_clear, sandbox_faults_set


class Command(BaseCommand):
    help = "Show, set or clear the faults a provider sandbox injects (e.g. --status 503 to fake an outage)."

    def add_arguments(self, parser):
        parser.add_argument("provider", choices=["callkaro", "acefone", "meta"])
        parser.add_argument("--status", type=int, help="answer every API call with this HTTP status")
        parser.add_argument("--retry-after", type=int, help="Retry-After seconds sent with --status 429")
        parser.add_argument("--latency-ms", type=int, help="delay every answer by this many milliseconds")
        parser.add_argument("--timeout", action="store_true", help="accept the call but answer too late")
        parser.add_argument("--clear", action="store_true", help="remove every fault")

    def handle(self, *args, provider, clear, **options):
        if clear:
            sandbox_faults_clear(provider)
        else:
            faults = {key: options[key] for key in ("status", "retry_after", "latency_ms") if options[key] is not None}
            if options["timeout"]:
                faults["timeout"] = True
            if not faults:
                raise CommandError("Give a fault (--status, --latency-ms, --timeout, --retry-after) or --clear.")
            sandbox_faults_set(provider, **faults)
        self.stdout.write(f"{provider} sandbox faults: {sandbox_faults(provider) or 'none'}")
