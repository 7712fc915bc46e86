"""Switch the local provider sandboxes' faults on or off while the app runs (demos, browser tests)."""

from django.core.management.base import BaseCommand, CommandError

from telephony.sandbox import sandbox_faults, sandbox_faults_clear, sandbox_faults_set

#: option -> fault key, for the valued options.
VALUED = ("status", "retry_after", "latency_ms", "later_tries", "other_agent", "outcome", "only_path")
#: on/off switches.
SWITCHES = ("timeout", "unknown_agent", "unsolicited_report", "extra_events", "short_call")


class Command(BaseCommand):
    help = "Show, set or clear the faults a provider sandbox injects (e.g. --status 503 to fake an outage)."

    def add_arguments(self, parser):
        parser.add_argument("provider", choices=["callkaro", "acefone", "meta"])
        parser.add_argument("--status", type=int, help="answer every API call with this HTTP status")
        parser.add_argument("--retry-after", type=int, help="Retry-After seconds sent with --status 429")
        parser.add_argument("--latency-ms", type=int, help="delay every answer by this many milliseconds")
        parser.add_argument("--timeout", action="store_true", help="accept the call but answer too late")
        parser.add_argument("--unknown-agent", action="store_true", help="Call Karo: 404 'Agent does not exist'")
        parser.add_argument("--later-tries", type=int, help="Call Karo: send N later-try reports (try_count 1..N)")
        parser.add_argument("--unsolicited-report", action="store_true", help="Call Karo: report a call never asked")
        parser.add_argument("--extra-events", action="store_true", help="Call Karo: call_started, message_* too")
        parser.add_argument("--other-agent", help="Call Karo: reports name this agent as the one that spoke")
        parser.add_argument("--outcome", help="Call Karo: force the outcome (connected, no_answer, ...)")
        parser.add_argument("--short-call", action="store_true", help="Call Karo: a 5 s call with default post-call")
        parser.add_argument("--only-path", help="apply the faults only to API paths containing this (/call/outbound)")
        parser.add_argument("--clear", action="store_true", help="remove every fault")

    def handle(self, *args, provider, clear, **options):
        if clear:
            sandbox_faults_clear(provider)
        else:
            faults = {key: options[key] for key in VALUED if options[key] is not None}
            faults.update({key: True for key in SWITCHES if options[key]})
            if not faults:
                raise CommandError("Give a fault (see --help) or --clear.")
            sandbox_faults_set(provider, **faults)
        self.stdout.write(f"{provider} sandbox faults: {sandbox_faults(provider) or 'none'}")
