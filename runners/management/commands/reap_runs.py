from django.core.management.base import BaseCommand

from runners.reaper import runs_reap_lost, runs_republish_stale


class Command(BaseCommand):
    help = (
        "Mark failed the runs left `running` by a lost worker (for twice RUNNERS_LOST_AFTER_SECONDS), and publish "
        "again the runs still `queued` after RUNNERS_LOST_AFTER_SECONDS (their message was lost)."
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
