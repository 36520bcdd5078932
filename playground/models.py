"""What the Playground keeps between visits: each user's draft."""

from django.conf import settings
from django.db import models

from organizations.models import Organization


class PlaygroundDraft(models.Model):
    """A user's unsent Playground state (messages, variables, columns and their parameters, the open prompt version,
    the last model chosen), saved by the page as it changes so that a reload, or another browser, gets it back.

    Kept on the server rather than in localStorage so that it follows the user; one row per user.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="playground_draft"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"draft of {self.user_id}"
