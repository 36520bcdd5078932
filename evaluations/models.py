"""Datasets of prompt variables, LLM-as-judge metrics, and evaluations that run a prompt over a dataset."""

import uuid

from django.conf import settings
from django.db import models

from organizations.models import Organization


class Dataset(models.Model):
    """Rows of prompt variables; the column names are the variable names.

    A dataset is one version of a lineage: its rows never change once stored, so every evaluation of it is over the
    same rows. Adding rows makes the next version (a new Dataset with the rows copied and the new ones appended,
    `version` + 1, the same `lineage`); evaluations keep pointing at the version they ran on.
    """

    # The versions of one dataset share its first version's uuid here. (Before `uuid`, which hides the module.)
    lineage = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    # The id users and scripts see; the sequential primary key stays internal.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    columns = models.JSONField(default=list)
    row_count = models.PositiveIntegerField(default=0)
    source_format = models.CharField(max_length=8)  # "csv" or "jsonl"
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["lineage", "version"], name="dataset_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class DatasetRow(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rows")
    # 1-based, as in the error messages and the preview ("row 3").
    index = models.PositiveIntegerField()
    values = models.JSONField()
    # The Playground run a row was made from (its variables and answer), kept through later versions; a plain id so
    # that the row outlives the run.
    source_run_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "index"]
        constraints = [models.UniqueConstraint(fields=["dataset", "index"], name="dataset_row_index_unique")]

    def __str__(self) -> str:
        return f"{self.dataset} row {self.index}"


class MetricKind(models.TextChoices):
    LLM_JUDGE = "llm_judge", "LLM judge"
    CODE = "code", "Code check"


class Metric(models.Model):
    """A metric: an LLM judge (a judge prompt run by a model, N times per scored output, averaged) or a code check
    (`code`, evaluations.code_metrics: deterministic, scored as the output finishes, no judge run).

    A metric is one version of a lineage, as a Dataset is: a version never changes once stored, so a score
    (MetricScore.metric) always names what judged it. Editing makes the next version (a new Metric, `version` + 1,
    the same `lineage`) and stamps the old one's `replaced_at`; evaluations keep pointing at the version they ran
    with. Only the current version (`replaced_at` null) is listed and can start an evaluation.
    """

    # The versions of one metric share its first version's uuid here. (Before `uuid`, which hides the module.)
    lineage = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    # The id users and scripts see; the sequential primary key stays internal. Each version has its own.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    # When a newer version replaced this one; null for the current version.
    replaced_at = models.DateTimeField(null=True, blank=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=MetricKind.choices, default=MetricKind.LLM_JUDGE)
    # The judge model by alias: integrations replace their model rows on update, aliases stay. Empty for code.
    judge_model = models.CharField(max_length=255, blank=True)
    # Judge runs per scored output; 0 for a code metric (so that Evaluation.judges_per_output counts judges only).
    judges = models.PositiveSmallIntegerField(default=1)
    prompt = models.TextField(blank=True)
    # A code metric's check (evaluations.code_metrics.code_config_clean); empty for an LLM judge.
    code = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The metrics page form's token and a digest of what it sent (services.metrics.metric_create_once): a double
    # submit of the form gets this metric instead of a second one. Null for versions made otherwise.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, editable=False)  # noqa: DJ001
    request_digest = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Names are unique among current versions; a replaced version keeps the name it had.
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=models.Q(replaced_at__isnull=True),
                name="metric_name_unique_in_org",
            ),
            models.UniqueConstraint(fields=["lineage", "version"], name="metric_version_unique"),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="metric_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_code(self) -> bool:
        return self.kind == MetricKind.CODE


class Evaluation(models.Model):
    """One prompt over one dataset on one or more models: a Run per row x model, grouped in `job`.

    Judge runs go to `judge_job`, so one aggregate query over both jobs reports progress.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="evaluations")
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A dataset cannot be deleted while evaluations show its rows (RESTRICT still lets an organisation go).
    dataset = models.ForeignKey(Dataset, on_delete=models.RESTRICT, related_name="evaluations")
    messages = models.JSONField()
    # The saved prompt version the messages came from; the prompt cannot be deleted while this evaluation exists.
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", null=True, blank=True, on_delete=models.RESTRICT, related_name="evaluations"
    )
    # [{"alias": "GPT 5.2", "parameters": {...}}], in column order.
    model_columns = models.JSONField()
    metrics = models.ManyToManyField(Metric, blank=True, related_name="evaluations")
    # Judge runs per successful output (the sum of the metrics' numbers of judges).
    judges_per_output = models.PositiveIntegerField(default=0)
    job = models.OneToOneField("runners.Job", on_delete=models.RESTRICT, related_name="evaluation")
    judge_job = models.OneToOneField("runners.Job", on_delete=models.RESTRICT, related_name="judged_evaluation")
    total_runs = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The client's Idempotency-Key (or the new-evaluation form's token) and a digest of the request it came with:
    # a repeated request with the same key gets this evaluation instead of a second one.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, editable=False)  # noqa: DJ001
    request_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Null while a worker makes the runs (evaluations.tasks.create_evaluation_runs): the status is "creating".
    runs_created_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="evaluation_idempotency_key_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def status(self) -> str:
        if self.cancelled_at:
            return "cancelled"
        if self.finished_at:
            return "completed"
        return "running" if self.runs_created_at else "creating"

    @property
    def model_aliases(self) -> list[str]:
        return [entry["alias"] for entry in self.model_columns]


class EvaluationCounters(models.Model):
    """An evaluation's progress, kept as runs finish (evaluations.services.counters) so that a poll reads one row.

    A row of its own, not fields of Evaluation: judge creation holds a shared lock on the evaluation's row
    (against a cancel), and increments there would turn concurrent judge creations into deadlocks.
    """

    evaluation = models.OneToOneField(Evaluation, primary_key=True, on_delete=models.CASCADE, related_name="counters")
    # Output runs by what they came to; failed does not include cancelled.
    outputs_succeeded = models.PositiveIntegerField(default=0)
    outputs_failed = models.PositiveIntegerField(default=0)
    outputs_cancelled = models.PositiveIntegerField(default=0)
    last_output_at = models.DateTimeField(null=True, blank=True)  # when the last executed output was counted
    # Judge runs as they are created, and by JudgeOutcome as their score is recorded.
    judges_created = models.PositiveIntegerField(default=0)
    judges_scored = models.PositiveIntegerField(default=0)
    judges_unusable = models.PositiveIntegerField(default=0)
    judges_run_failed = models.PositiveIntegerField(default=0)
    judges_cancelled = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"counters of {self.evaluation_id}"


class EvaluationResult(models.Model):
    """The output of one model on one dataset row: its Run, and later its scores."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="results")
    row = models.ForeignKey(DatasetRow, on_delete=models.RESTRICT, related_name="+")
    model_alias = models.CharField(max_length=255)
    run = models.OneToOneField("runners.Run", on_delete=models.RESTRICT, related_name="evaluation_result")
    # Set by the one caller that enqueues this output's judges (conditional UPDATE from NULL).
    judge_claim = models.UUIDField(null=True, blank=True)
    # What the run came to once it is in the evaluation's counters (a conditional UPDATE from NULL counts it once).
    counted_as = models.CharField(max_length=16, null=True, blank=True, editable=False)  # noqa: DJ001
    # Which attempt `run` is: 1, then + 1 each time a failed output is re-run (the earlier runs are OutputAttempts).
    attempt = models.PositiveSmallIntegerField(default=1, editable=False)

    class Meta:
        indexes = [models.Index(fields=["evaluation", "row"])]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "row", "model_alias"], name="evaluation_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model_alias} on row {self.row_id}"


class OutputAttempt(models.Model):
    """An earlier run of an evaluation's output, replaced when the failed output was re-run
    (evaluations.services.rerun). Kept so that every attempt stays readable; the current one is the result's `run`."""

    result = models.ForeignKey(EvaluationResult, on_delete=models.CASCADE, related_name="attempts")
    run = models.OneToOneField("runners.Run", on_delete=models.RESTRICT, related_name="replaced_output")
    number = models.PositiveSmallIntegerField()  # 1 for the output's first run
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["result", "number"]
        constraints = [models.UniqueConstraint(fields=["result", "number"], name="output_attempt_unique")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.result_id}"


class ScoreStatus(models.TextChoices):
    PENDING = "pending"  # judge runs queued or running
    SCORED = "scored"  # at least one judge gave a valid score
    FAILED = "failed"  # no judge gave a valid score


class MetricScore(models.Model):
    """One metric on one output: each judge's verdict and their mean.

    The output is `scored_run`; for an evaluation's output, `result` is set too (a Playground run has none).
    """

    result = models.ForeignKey(EvaluationResult, null=True, blank=True, on_delete=models.CASCADE, related_name="scores")
    scored_run = models.ForeignKey(
        "runners.Run", null=True, blank=True, on_delete=models.RESTRICT, related_name="metric_scores"
    )
    metric = models.ForeignKey(Metric, on_delete=models.RESTRICT, related_name="+")
    status = models.CharField(max_length=16, choices=ScoreStatus.choices, default=ScoreStatus.PENDING)
    # One entry per judge, in order: {"score", "reason"} or {"error"}.
    judgements = models.JSONField(default=list)
    mean = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["result", "metric"], name="metric_score_unique"),
            models.UniqueConstraint(fields=["scored_run", "metric"], name="metric_score_run_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id}: {self.status} {self.mean}"


class JudgeOutcome(models.TextChoices):
    """What a judge run came to, recorded with its score (evaluations.services.scoring.scores_record)."""

    SCORED = "scored", "a usable verdict"
    UNUSABLE = "unusable", "an answer that is no verdict (not JSON, out of range, cut off)"
    RUN_FAILED = "run_failed", "the judge run failed"
    CANCELLED = "cancelled", "cancelled with its evaluation"


class JudgeRun(models.Model):
    score = models.ForeignKey(MetricScore, on_delete=models.CASCADE, related_name="judge_runs")
    index = models.PositiveSmallIntegerField()
    run = models.OneToOneField("runners.Run", on_delete=models.RESTRICT, related_name="judge_run")
    # Null until its score is recorded (all the score's judges have finished).
    outcome = models.CharField(max_length=16, choices=JudgeOutcome.choices, null=True, blank=True)  # noqa: DJ001
    # 1, then + 1 each time this judge is re-run after it failed (evaluations.services.rerun); the replaced judge
    # run is kept with `superseded` set, and only the others count in the score, the summaries and the counters.
    attempt = models.PositiveSmallIntegerField(default=1, editable=False)
    superseded = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["score", "index", "attempt"]
        # The database refuses a second set of judges for the same score (earlier attempts aside).
        constraints = [
            models.UniqueConstraint(
                fields=["score", "index"], condition=models.Q(superseded=False), name="judge_run_unique"
            ),
            models.UniqueConstraint(fields=["score", "index", "attempt"], name="judge_run_attempt_unique"),
        ]

    def __str__(self) -> str:
        return f"judge {self.index + 1} of score {self.score_id}"
