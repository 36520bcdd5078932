from django.core.management.base import BaseCommand

from runners.reaper import runs_reap_lost, runs_republish_stale
from runners.signals import reaper_pass


class Command(BaseCommand):
    help = (
        "Mark failed the runs left `running` by a lost worker (for twice RUNNERS_LOST_AFTER_SECONDS), and publish "
        "again the runs still `queued` after RUNNERS_LOST_AFTER_SECONDS (their message was lost); then the apps' own "
        "repairs (runners.signals.reaper_pass: evaluations left `creating` by a lost message)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--lost-after", type=float, default=None, help="seconds (default: twice RUNNERS_LOST_AFTER_SECONDS)"
        )
        parser.add_argument(
            "--queued-after", type=float, default=None, help="seconds (default: RUNNERS_LOST_AFTER_SECONDS)"
        )

    def handle(self, *args, lost_after=None, queued_after=None, **options):
        reaped = runs_reap_lost(lost_after=lost_after)
        self.stdout.write(f"{reaped} run(s) marked failed (worker lost)")
        republished = runs_republish_stale(older_than=queued_after)
        self.stdout.write(f"{republished} queued run(s) published again")
        for receiver, result in reaper_pass.send_robust(sender=None):
            if isinstance(result, Exception):
                self.stderr.write(f"{getattr(receiver, '__qualname__', receiver)} failed: {type(result).__name__}")
            elif isinstance(result, int) and result:
                self.stdout.write(f"{receiver.__module__}.{receiver.__qualname__}: {result} handled")
