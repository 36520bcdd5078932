"""Metrics (LLM judges and code checks): list, define, read, and score succeeded runs with one (their scores)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.schema import error_responses
from api.serializers import StrictCharField, StrictInput, TimestampField
from api.views.base import OrganizationApi, found
from evaluations.payloads import score_payload
from evaluations.selectors import metric_get, metric_list, metrics_judge_missing, run_scores_get
from evaluations.services.metrics import MetricInUse, metric_create, metric_delete, metric_update
from evaluations.services.permissions import can_change_metric
from evaluations.services.scoring import run_scores_request


class MetricOutput(serializers.Serializer):
    id = serializers.UUIDField(source="uuid", help_text="This version's id (each version has its own).")
    lineage = serializers.UUIDField(help_text="Shared by every version of the metric (its first version's id).")
    version = serializers.IntegerField(help_text="1, 2, 3…: an edit makes the next version.")
    current = serializers.SerializerMethodField(help_text="Whether this is the current version (the one listed).")
    judge_model_missing = serializers.SerializerMethodField(
        help_text="True when the judge model's alias no longer exists: evaluations with it are refused."
    )
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["llm_judge", "code"])
    judge_model = serializers.CharField(
        help_text="Alias of the model that judges (any integration's); empty for a code metric."
    )
    judges = serializers.IntegerField(help_text="No. of judges: judge runs per scored output, averaged (0: code).")
    prompt = serializers.CharField()
    parameters = serializers.JSONField()
    code = serializers.JSONField(help_text="A code metric's check (see `metrics_create`); {} for an LLM judge.")
    created_at = TimestampField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    replaced_at = TimestampField(allow_null=True, help_text="When a newer version replaced this one; null if current.")

    def get_current(self, metric) -> bool:
        return metric.replaced_at is None

    def get_judge_model_missing(self, metric) -> bool:
        missing = self.context.get("judge_missing")
        if missing is None:
            missing = metrics_judge_missing(organization=metric.organization_id, metrics=[metric])
        return metric.uuid in missing


class MetricsApi(OrganizationApi):
    class MetricCreateInput(serializers.Serializer):
        name = StrictCharField(max_length=200)
        kind = serializers.ChoiceField(
            choices=["llm_judge", "code"],
            required=False,
            default="llm_judge",
            help_text="An LLM judge or a code check.",
        )
        judge_model = StrictCharField(max_length=255, required=False, help_text="Alias of the judging model (judge).")
        judges = serializers.IntegerField(required=False, default=1, help_text="No. of judges (1-10; judge).")
        prompt = StrictCharField(
            trim_whitespace=False,
            required=False,
            help_text="Judge prompt with {{output}}, and optionally {{input}}, {{expected}} or any row variable.",
        )
        parameters = serializers.JSONField(required=False, allow_null=True)
        code = serializers.JSONField(
            required=False,
            allow_null=True,
            help_text='A code check (kind "code"): {"check": "exact_match" | "contains" | "regex" | "valid_json" | '
            '"json_schema" | "numeric_close", "reference": {"column": "expected"} or {"value": ...}, and the '
            'check\'s options ("ignore_case", "ignore_whitespace", "match", "abs_tol", "rel_tol", "score").',
        )

    @extend_schema(
        operation_id="metrics_list",
        summary="List metrics (LLM judges and code checks)",
        responses={200: MetricOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        metrics = list(metric_list(organization=self.organization))
        missing = metrics_judge_missing(organization=self.organization, metrics=metrics)
        return Response(MetricOutput(metrics, many=True, context={"judge_missing": missing}).data)

    @extend_schema(
        operation_id="metrics_create",
        summary="Define a metric: an LLM judge, or a code check scored without a model",
        request=MetricCreateInput,
        responses={201: MetricOutput, **error_responses(401, 403, 422)},
    )
    def post(self, request):
        data = self.validated(self.MetricCreateInput, request.data, where="body")
        metric = metric_create(organization=self.organization, user=request.user, **data)
        return Response(MetricOutput(metric).data, status=status.HTTP_201_CREATED)


class MetricUsageOutput(serializers.Serializer):
    detail = serializers.CharField()
    evaluations = serializers.ListField(
        child=serializers.DictField(), help_text='Evaluations that ran with a version: {"id", "name", "version"}.'
    )
    scored_runs = serializers.IntegerField(help_text="Runs scored with it in the Playground.")


class MetricDetailApi(OrganizationApi):
    class MetricUpdateInput(StrictInput):
        name = StrictCharField(max_length=200, required=False)
        kind = serializers.ChoiceField(
            choices=["llm_judge", "code"],
            required=False,
            help_text="Fixed for the metric's life: sending it is a 422 (`read_only`); make a new metric instead.",
        )
        judge_model = StrictCharField(max_length=255, required=False, help_text="Alias of the judging model (judge).")
        judges = serializers.IntegerField(required=False, help_text="No. of judges (1-10; judge).")
        prompt = StrictCharField(trim_whitespace=False, required=False, help_text="Judge prompt with {{output}}.")
        parameters = serializers.JSONField(required=False, allow_null=True)
        code = serializers.JSONField(required=False, help_text="A code metric's check, as in `metrics_create`.")

    def metric(self, metric_id, *, change: bool = False):
        metric = found(metric_get(organization=self.organization, metric_id=metric_id), "metric")
        if change and not can_change_metric(user=self.request.user, metric=metric):
            raise PermissionDenied("Only admins and the metric's creator may change or delete it.")
        return metric

    @extend_schema(
        operation_id="metrics_get",
        summary="A metric version (any version's id: scores and evaluations name the one they used)",
        responses={200: MetricOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request, metric_id):
        return Response(MetricOutput(self.metric(metric_id)).data)

    @extend_schema(
        operation_id="metrics_update",
        summary="Edit a metric: makes its next version (fields left out keep their values); admins and its creator",
        description=(
            "The edited version is kept unchanged, so the scores it made and the evaluations that ran with it keep "
            "naming it; the answer is the new current version, with its own `id` (the same `lineage`). Nothing "
            "changed: the same version, 200. Only the current version can be edited (422 at `metric` otherwise); "
            "`kind` cannot change (422 at `kind`), and a field this call does not know is a 422 at its name."
        ),
        request=MetricUpdateInput,
        responses={200: MetricOutput, **error_responses(401, 403, 404, 422)},
    )
    def patch(self, request, metric_id):
        metric = self.metric(metric_id, change=True)
        data = self.validated(self.MetricUpdateInput, request.data, where="body")
        return Response(MetricOutput(metric_update(metric=metric, user=request.user, **data)).data)

    @extend_schema(
        operation_id="metrics_delete",
        summary="Delete a metric with all its versions (admins and its creator; not while used: 409)",
        description=(
            "A metric that an evaluation ran with, or that scored a Playground run, is in use: the answer is 409 "
            "with what uses it, and nothing is deleted. Edit it instead."
        ),
        responses={
            204: None,
            **error_responses(401, 403, 404),
            409: OpenApiResponse(MetricUsageOutput, description="In use: what uses it."),
        },
    )
    def delete(self, request, metric_id):
        metric = self.metric(metric_id, change=True)
        try:
            metric_delete(metric=metric)
        except MetricInUse as exc:
            return Response({"detail": str(exc), **exc.usage}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScoreOutput(serializers.Serializer):
    run = serializers.UUIDField(help_text="The judged run.")
    metric = serializers.UUIDField(help_text="The metric's id.")
    metric_name = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "scored", "failed"])
    mean = serializers.FloatField(allow_null=True, help_text="Mean of the judges' valid scores (0-1).")
    judgements = serializers.ListField(
        child=serializers.DictField(), help_text='Per judge: {"score", "reason"} or {"error"}.'
    )
    error = serializers.CharField(allow_null=True, help_text="Judges whose answer could not be used, and why.")

    def to_representation(self, instance):
        return score_payload(instance)


class MetricScoresApi(OrganizationApi):
    class ScoreRequestInput(serializers.Serializer):
        runs = serializers.ListField(
            child=serializers.UUIDField(), help_text="Succeeded runs to judge (a Playground comparison's columns)."
        )

    class ScoreFilterInput(serializers.Serializer):
        run = serializers.ListField(child=serializers.UUIDField(), help_text="Repeat for several runs.")

    @extend_schema(
        operation_id="metrics_scores_request",
        summary="Judge succeeded runs with this metric (N judge runs each); asking again returns the same scores",
        request=ScoreRequestInput,
        responses={202: ScoreOutput(many=True), **error_responses(401, 403, 404, 422)},
    )
    def post(self, request, metric_id):
        metric = found(metric_get(organization=self.organization, metric_id=metric_id), "metric")
        data = self.validated(self.ScoreRequestInput, request.data, where="body")
        scores = run_scores_request(organization=self.organization, user=request.user, metric=metric, runs=data["runs"])
        return Response(ScoreOutput(scores, many=True).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        operation_id="metrics_scores_get",
        summary="This metric's scores of runs (pending until every judge has answered)",
        parameters=[ScoreFilterInput],
        responses={200: ScoreOutput(many=True), **error_responses(401, 403, 404, 422)},
    )
    def get(self, request, metric_id):
        metric = found(metric_get(organization=self.organization, metric_id=metric_id), "metric")
        data = self.validated(self.ScoreFilterInput, {"run": request.query_params.getlist("run")}, where="query")
        scores = run_scores_get(organization=self.organization, runs=data["run"], metric=metric)
        return Response(ScoreOutput(scores, many=True).data)
