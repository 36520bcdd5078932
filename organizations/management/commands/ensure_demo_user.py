import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from organizations.services import user_create


class Command(BaseCommand):
    help = "Create the quickstart login (admin of organisation Demo) once, and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        login_file = settings.VAR_DIR / "demo-login.txt"
        if not get_user_model().objects.filter(username=username).exists():
            password = secrets.token_urlsafe(12)
            user_create(username=username, organization_name="Demo", role="admin", password=password)
            user = get_user_model().objects.get(username=username)
            user.is_staff = user.is_superuser = True  # the quickstart's operator account
            user.save(update_fields=["is_staff", "is_superuser"])
            login_file.parent.mkdir(parents=True, exist_ok=True)
            login_file.write_text(f"{username} {password}\n")
            login_file.chmod(0o600)
        port = os.environ.get("WEB_PORT", "8000")
        credentials = login_file.read_text().split() if login_file.exists() else [username, "(password set earlier)"]
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Open http://127.0.0.1:{port}/  and log in as  {credentials[0]} / {credentials[1]}\n"
                f"  (stored in {login_file})\n"
            )
        )
