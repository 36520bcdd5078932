"""Saved prompts: a named prompt with immutable, numbered versions and labels that point at one version each."""

import uuid

from django.conf import settings
from django.db import models

from organizations.models import Organization


class Prompt(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="prompts")
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Moves when a version is added or a label set, so lists show the prompts worked on last first.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="prompt_name_unique_in_org")]

    def __str__(self) -> str:
        return self.name


class PromptVersion(models.Model):
    """One immutable state of a prompt: nothing updates a version once it is written (prompts.services)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="versions")
    # 1, 2, 3... in the order they were added.
    number = models.PositiveIntegerField()
    # Chat messages whose string contents may use {{variables}}.
    messages = models.JSONField()
    # The model alias it was written for; "" when any model will do.
    model_alias = models.CharField(max_length=255, blank=True, default="")
    # Run parameters (validated like a run's), without tools and response_format, which are kept apart.
    parameters = models.JSONField(default=dict, blank=True)
    tools = models.JSONField(null=True, blank=True)
    response_format = models.JSONField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt", "number"]
        constraints = [models.UniqueConstraint(fields=["prompt", "number"], name="prompt_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.prompt_id} v{self.number}"


class PromptLabel(models.Model):
    """A name (`production`) that points at one version of its prompt and can be moved to another."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=50)
    version = models.ForeignKey(PromptVersion, on_delete=models.CASCADE, related_name="labels")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["prompt", "name"], name="prompt_label_unique")]

    def __str__(self) -> str:
        return f"{self.name} -> v{self.version.number}"
