from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from organizations.models import Role
from organizations.services import api_key_issue, user_create


class Command(BaseCommand):
    help = "Create a user in an organisation (created if new); with --api-key, print a new API key on the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--organization", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password")
        parser.add_argument("--email", default="")
        parser.add_argument("--api-key", action="store_true", help="issue an API key and print it (shown once)")

    def handle(self, *args, username, organization, role, password, email, api_key, **options):
        try:
            user = user_create(
                username=username, organization_name=organization, role=role, password=password, email=email
            )
        except ValidationError as exc:
            messages = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in exc.message_dict.items())
            raise CommandError(messages) from None
        self.stdout.write(f"Created {role} {user.username} in organisation {organization}.")
        if api_key:
            issued = api_key_issue(user=user)
            self.stdout.write("API key (shown once, store it now):")
            self.stdout.write(issued.raw_key)
