from django.core.management.base import BaseCommand

from runners.reaper import runs_reap_lost


class Command(BaseCommand):
    help = "Mark failed the runs left `running` by a lost worker (for twice RUNNERS_LOST_AFTER_SECONDS)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lost-after", type=float, default=None, help="seconds (default: twice RUNNERS_LOST_AFTER_SECONDS)"
        )

    def handle(self, *args, lost_after=None, **options):
        reaped = runs_reap_lost(lost_after=lost_after)
        self.stdout.write(f"{reaped} run(s) marked failed (worker lost)")
