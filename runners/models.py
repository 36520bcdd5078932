import uuid

from django.conf import settings
from django.db import models

from organizations.models import Organization, Project


class Job(models.Model):
    """A group of runs started together (a playground comparison, an integration test, an evaluation)."""

    class Kind(models.TextChoices):
        PLAYGROUND = "playground"
        TEST = "test"
        API = "api"
        EVALUATION = "evaluation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="jobs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Set for integration tests (Settings > Integrations > Test).
    integration = models.ForeignKey(
        "integrations.Integration", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    # What the Playground ran, before {{variables}} were filled in, so that its history reopens the template:
    # the messages as written and the variables' values.
    template = models.JSONField(null=True, blank=True)
    variables = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} job {self.id}"


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


TERMINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED)


class WorkClass(models.TextChoices):
    """Who waits for a run, and so the order workers take runs in (runners.dispatch): interactive first, then
    judges, then batch outputs."""

    INTERACTIVE = "interactive"  # the Playground, a connection Test, an API run: someone is waiting for it
    JUDGE = "judge"  # an evaluation's judge of an output that has finished
    BATCH = "batch"  # an evaluation's output, one of thousands


class Run(models.Model):
    """One inference call and everything that happened to it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="runs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    integration = models.ForeignKey(
        "integrations.Integration", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    integration_name = models.CharField(max_length=100)
    model_alias = models.CharField(max_length=255)
    model_name = models.CharField(max_length=255)

    messages = models.JSONField()
    parameters = models.JSONField(default=dict)
    dropped_parameters = models.JSONField(default=list)
    # The learned parameter rules (integrations.ParameterRule) this run applied, each {"parameter", "action"
    # ("rename" | "drop"), "to" (a wire name or null), "rule" (the rule's uuid)}: read at enqueue, extended by a
    # refusal the run negotiated (runners.negotiation).
    applied_rules = models.JSONField(default=list, blank=True)
    # Ask the provider to stream; partial output is readable while the run is running.
    stream = models.BooleanField(default=False)
    # The saved prompt version the messages came from (prompts.PromptVersion), as a plain id: prompts sits above
    # runners, and prompts.services.prompt_delete refuses while a run records one of its versions.
    prompt_version_id = models.UUIDField(null=True, blank=True, db_index=True)

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    # One entry per delivery attempt: {"attempt", "started_at", "duration_ms", "status_code", "error_type"}.
    attempt_log = models.JSONField(default=list, blank=True)
    # Set when a worker claims the run; only the holder of the current claim may store its result.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    # Who waits for it (runners.dispatch): the priority of its message, and whether it waits for its organisation's
    # turn before it is published.
    work_class = models.CharField(max_length=16, choices=WorkClass.choices, default=WorkClass.INTERACTIVE)
    # When its message was handed to the broker; null for a batch run still waiting for its organisation's turn.
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a run deferred for its integration's limits (runners.limits) comes back; its message waits in a worker
    # until then, so the reaper does not take it for lost.
    deferred_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When the reaper last published this queued run's message again (its first may have been lost).
    republished_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The request as sent: url, headers (secrets as ********), body.
    request = models.JSONField(null=True, blank=True)
    output = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: not produced yet)
    finish_reason = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (null: not produced yet)
    response = models.JSONField(null=True, blank=True)
    # The model's tool calls in OpenAI's shape, [{"id", "type": "function", "function": {"name", "arguments"}}];
    # null when it called none.
    tool_calls = models.JSONField(null=True, blank=True)
    # The model's reasoning (`reasoning_content` or `reasoning` in the answer); null when it sent none.
    reasoning = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: none sent)
    usage = models.JSONField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    # Streamed runs: ms from sending the request to the first output (content, reasoning or a tool call) of the
    # attempt that answered; null when not streamed or nothing came.
    time_to_first_token_ms = models.FloatField(null=True, blank=True)
    error_type = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (null: not produced yet)
    error_message = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: not produced yet)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["status", "started_at"]),
            # The runs list's filters (by integration, by model alias, by job) and the Playground history (by user),
            # each newest first: an index range read, however many runs the table holds.
            models.Index(fields=["organization", "integration_name", "-created_at"], name="run_org_integration_idx"),
            models.Index(fields=["organization", "status", "-created_at"], name="run_org_status_idx"),
            models.Index(fields=["organization", "model_alias", "-created_at"], name="run_org_model_idx"),
            models.Index(fields=["organization", "user", "-created_at"], name="run_org_user_idx"),
            models.Index(fields=["job", "status"], name="run_job_status_idx"),
            # runners.dispatch: batch runs waiting for their organisation's turn, and those in flight.
            models.Index(fields=["work_class", "status", "organization", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.model_alias} {self.status}"

    @property
    def error(self) -> dict | None:
        if not self.error_type:
            return None
        return {"type": self.error_type, "message": self.error_message}
