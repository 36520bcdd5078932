"""API v2 for evaluations: datasets, metrics, evaluations with their progress, results and CSV export.

Same conventions as api/views: members of the organisation read and run, admins and the creator delete;
anything of another organisation is a 404; invalid input is a 422 with `loc`.
"""

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from api.errors import Unprocessable, problem
from api.parsers import JSONParser
from api.schema import error_responses
from api.serializers import StrictCharField, TimestampField
from api.views.base import OrganizationApi, found
from evaluations.datasets import FORMATS, MAX_BYTES
from evaluations.export import results_csv_lines
from evaluations.selectors import (
    dataset_get,
    dataset_list,
    dataset_preview,
    evaluation_get,
    evaluation_list,
    evaluation_progress,
    evaluation_results,
    metric_get,
    metric_list,
    run_scores_get,
)
from evaluations.services.common import InUse
from evaluations.services.datasets import dataset_create, dataset_delete
from evaluations.services.lifecycle import evaluation_cancel, evaluation_create
from evaluations.services.metrics import metric_create
from evaluations.services.permissions import can_delete
from evaluations.services.scoring import run_scores_request

# Room for a 5 MB dataset in a JSON string (escapes make it longer than the file).
DATASET_BODY_BYTES = 2 * MAX_BYTES + 64 * 1024


def _permissions(obj, user) -> list[str]:
    return ["read", "run", "delete"] if can_delete(user=user, obj=obj) else ["read", "run"]


class DatasetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    format = serializers.CharField(source="source_format")
    columns = serializers.ListField(child=serializers.CharField())
    row_count = serializers.IntegerField()
    created_at = TimestampField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    permissions = serializers.SerializerMethodField()

    def get_permissions(self, dataset) -> list[str]:
        return _permissions(dataset, self.context["user"])


class DatasetDetailOutput(DatasetOutput):
    preview = serializers.SerializerMethodField(help_text="The first rows: {index, values}.")

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_preview(self, dataset):
        return [{"index": row.index, "values": row.values} for row in dataset_preview(dataset=dataset)]


class MetricOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    judge_model = serializers.CharField(help_text="Alias of the model that judges (any integration's).")
    judges = serializers.IntegerField(help_text="No. of judges: judge runs per scored output, averaged.")
    prompt = serializers.CharField()
    parameters = serializers.JSONField()
    created_at = TimestampField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)


class ProgressOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["running", "completed", "cancelled"])
    total = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Succeeded output runs.")
    failed = serializers.IntegerField(help_text="Failed output runs, cancelled ones included.")
    cancelled = serializers.IntegerField()
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    percent = serializers.FloatField()
    rate_per_second = serializers.FloatField(allow_null=True)
    seconds_left = serializers.FloatField(allow_null=True)
    judges = serializers.DictField(child=serializers.IntegerField())


class EvaluationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.CharField()
    dataset = serializers.IntegerField(source="dataset_id")
    messages = serializers.JSONField()
    models = serializers.JSONField(source="model_columns")
    metrics = serializers.SerializerMethodField()
    job = serializers.UUIDField(source="job_id")
    judge_job = serializers.UUIDField(source="judge_job_id")
    total_runs = serializers.IntegerField()
    created_at = TimestampField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    cancelled_at = TimestampField(allow_null=True)
    finished_at = TimestampField(allow_null=True)

    def get_metrics(self, evaluation) -> list[int]:
        return sorted(metric.pk for metric in evaluation.metrics.all())


class EvaluationDetailOutput(EvaluationOutput):
    progress = serializers.SerializerMethodField()

    @extend_schema_field(ProgressOutput)
    def get_progress(self, evaluation):
        return evaluation_progress(evaluation=evaluation).as_dict()


class DatasetsApi(OrganizationApi):
    parser_classes = [JSONParser, MultiPartParser]
    max_body_bytes = DATASET_BODY_BYTES

    class DatasetCreateInput(serializers.Serializer):
        name = StrictCharField(max_length=200, required=False, allow_blank=True)
        format = serializers.ChoiceField(choices=[*FORMATS, "auto"], required=False, default="auto")
        content = StrictCharField(required=False, trim_whitespace=False, help_text="CSV or JSONL text.")
        file = serializers.FileField(required=False, help_text="multipart/form-data upload instead of content.")

    @extend_schema(
        operation_id="datasets_list",
        summary="List datasets, newest first",
        responses={200: DatasetOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        datasets = dataset_list(organization=self.organization)
        return Response(DatasetOutput(datasets, many=True, context={"user": request.user}).data)

    @extend_schema(
        operation_id="datasets_create",
        summary="Create a dataset from CSV (header row first) or JSONL (one object per line)",
        description=(
            'JSON `{"name", "format": "csv"|"jsonl"|"auto", "content"}` or multipart with a `file`. Problems in the '
            'data are a 422 per row and column: `loc` `["body", "rows", 3, "question"]` for row 3 (counted from 1, '
            "without the CSV header)."
        ),
        request=DatasetCreateInput,
        responses={201: DatasetDetailOutput, **error_responses(401, 403, 413, 422)},
    )
    def post(self, request):
        data = self.validated(self.DatasetCreateInput, request.data, where="body")
        upload = data.get("file")
        if upload is None and "content" not in data:
            raise Unprocessable([problem(["body", "content"], "Send the data as content or as a file.", "missing")])
        if upload is not None and upload.size > MAX_BYTES:
            raise Unprocessable([problem(["body", "file"], f"The file is larger than {MAX_BYTES} bytes.", "too_large")])
        dataset = dataset_create(
            organization=self.organization,
            user=request.user,
            name=data.get("name"),
            text=data.get("content"),
            data=upload.read() if upload is not None else None,
            format=data["format"],
            file_name=upload.name if upload is not None else "",
        )
        return Response(
            DatasetDetailOutput(dataset, context={"user": request.user}).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v2/datasets/{dataset.pk}"},
        )


class DatasetDetailApi(OrganizationApi):
    @extend_schema(
        operation_id="datasets_get",
        summary="A dataset with a preview of its first rows",
        responses={200: DatasetDetailOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request, dataset_id: int):
        dataset = found(dataset_get(organization=self.organization, dataset_id=dataset_id), "dataset")
        return Response(DatasetDetailOutput(dataset, context={"user": request.user}).data)

    @extend_schema(
        operation_id="datasets_delete",
        summary="Delete a dataset (admins and its creator; not while evaluations use it: 409)",
        responses={204: None, **error_responses(401, 403, 404), 409: OpenApiResponse(description="In use.")},
    )
    def delete(self, request, dataset_id: int):
        dataset = found(dataset_get(organization=self.organization, dataset_id=dataset_id), "dataset")
        if not can_delete(user=request.user, obj=dataset):
            raise PermissionDenied("Only admins and the dataset's creator may delete it.")
        try:
            dataset_delete(dataset=dataset)
        except InUse as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MetricsApi(OrganizationApi):
    class MetricCreateInput(serializers.Serializer):
        name = StrictCharField(max_length=200)
        judge_model = StrictCharField(max_length=255, help_text="Alias of the judging model.")
        judges = serializers.IntegerField(required=False, default=1, help_text="No. of judges (1-10).")
        prompt = StrictCharField(
            trim_whitespace=False,
            help_text="Judge prompt with {{output}}, and optionally {{input}}, {{expected}} or any row variable.",
        )
        parameters = serializers.JSONField(required=False, allow_null=True)

    @extend_schema(
        operation_id="metrics_list",
        summary="List LLM-as-judge metrics",
        responses={200: MetricOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        return Response(MetricOutput(metric_list(organization=self.organization), many=True).data)

    @extend_schema(
        operation_id="metrics_create",
        summary="Define an LLM-as-judge metric",
        request=MetricCreateInput,
        responses={201: MetricOutput, **error_responses(401, 403, 422)},
    )
    def post(self, request):
        data = self.validated(self.MetricCreateInput, request.data, where="body")
        metric = metric_create(organization=self.organization, user=request.user, **data)
        return Response(MetricOutput(metric).data, status=status.HTTP_201_CREATED)


class MetricDetailApi(OrganizationApi):
    @extend_schema(
        operation_id="metrics_get", summary="A metric", responses={200: MetricOutput, **error_responses(401, 403, 404)}
    )
    def get(self, request, metric_id: int):
        metric = found(metric_get(organization=self.organization, metric_id=metric_id), "metric")
        return Response(MetricOutput(metric).data)


def score_payload(score) -> dict:
    return {
        "run": str(score.scored_run_id),
        "metric": score.metric_id,
        "metric_name": score.metric.name,
        "status": score.status,
        "mean": score.mean,
        "judgements": score.judgements,
        "error": score.error or None,
    }


class ScoreOutput(serializers.Serializer):
    run = serializers.UUIDField(help_text="The judged run.")
    metric = serializers.IntegerField()
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
    def post(self, request, metric_id: int):
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
    def get(self, request, metric_id: int):
        metric = found(metric_get(organization=self.organization, metric_id=metric_id), "metric")
        data = self.validated(self.ScoreFilterInput, {"run": request.query_params.getlist("run")}, where="query")
        scores = run_scores_get(organization=self.organization, runs=data["run"], metric=metric)
        return Response(ScoreOutput(scores, many=True).data)


class EvaluationsApi(OrganizationApi):
    class ModelColumnInput(serializers.Serializer):
        model = StrictCharField(max_length=255, help_text="A model alias.")
        parameters = serializers.JSONField(required=False, allow_null=True)

    class EvaluationCreateInput(serializers.Serializer):
        name = StrictCharField(max_length=200, required=False, allow_blank=True)
        dataset = serializers.IntegerField(help_text="A dataset id.")
        messages = serializers.JSONField(help_text="Chat messages; {{column}} takes each row's value.")
        models = serializers.JSONField(help_text='[{"model": alias, "parameters": {...}}], 1 to 4.')
        metrics = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)

    @extend_schema(
        operation_id="evaluations_list",
        summary="List evaluations, newest first",
        responses={200: EvaluationOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        return Response(EvaluationOutput(evaluation_list(organization=self.organization), many=True).data)

    @extend_schema(
        operation_id="evaluations_create",
        summary="Run a prompt over a dataset on one or more models (one run per row x model)",
        description=(
            "Answers 202 once every run is queued; poll `GET /api/v2/evaluations/{id}`. A row without a value for "
            'a prompt variable is a 422 before anything is queued (`loc` `["body", "dataset", "rows", 3, "question"]`).'
        ),
        request=EvaluationCreateInput,
        responses={202: EvaluationDetailOutput, **error_responses(401, 403, 422)},
    )
    def post(self, request):
        data = self.validated(self.EvaluationCreateInput, request.data, where="body")
        evaluation = evaluation_create(organization=self.organization, user=request.user, **data)
        return Response(
            EvaluationDetailOutput(evaluation).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v2/evaluations/{evaluation.pk}"},
        )


class EvaluationDetailApi(OrganizationApi):
    @extend_schema(
        operation_id="evaluations_get",
        summary="An evaluation with its progress (done / failed / total, rate, time left)",
        responses={200: EvaluationDetailOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request, evaluation_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        return Response(EvaluationDetailOutput(evaluation).data)


class EvaluationCancelApi(OrganizationApi):
    @extend_schema(
        operation_id="evaluations_cancel",
        summary="Cancel: queued runs fail as cancelled; running ones finish (admins and the creator)",
        request=None,
        responses={200: EvaluationDetailOutput, **error_responses(401, 403, 404)},
    )
    def post(self, request, evaluation_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        if not can_delete(user=request.user, obj=evaluation):
            raise PermissionDenied("Only admins and the evaluation's creator may cancel it.")
        evaluation_cancel(evaluation=evaluation)
        return Response(EvaluationDetailOutput(evaluation).data)


def _cell_data(cell, metrics) -> dict | None:
    if cell is None:
        return None
    return {
        "run": cell.run_id,
        "status": cell.status,
        "output": cell.output,
        "error": {"type": cell.error_type, "message": cell.error_message} if cell.error_type else None,
        "latency_ms": cell.latency_ms,
        "usage": {
            "prompt_tokens": cell.prompt_tokens,
            "completion_tokens": cell.completion_tokens,
            "total_tokens": cell.total_tokens,
        },
        "scores": {
            str(metric.pk): (
                {
                    "status": score.status,
                    "mean": score.mean,
                    "judgements": score.judgements,
                    "error": score.error or None,
                }
                if (score := cell.score(metric.pk))
                else None
            )
            for metric in metrics
        },
    }


def results_payload(results) -> dict:
    return {
        "sort": results.sort,
        "models": results.models,
        "metrics": [{"id": metric.pk, "name": metric.name} for metric in results.metrics],
        "columns": results.columns,
        "aggregates": [
            {
                "model": summary.alias,
                "runs": summary.runs,
                "succeeded": summary.succeeded,
                "failed": summary.failed,
                "cancelled": summary.cancelled,
                "latency_ms": {"p50": summary.latency_p50, "p95": summary.latency_p95},
                "tokens": {
                    "prompt": summary.prompt_tokens,
                    "completion": summary.completion_tokens,
                    "total": summary.total_tokens,
                },
                "scores": {
                    str(metric_id): {
                        "mean": mean,
                        "scored": len(summary.score_values[metric_id]),
                        "failed": summary.score_failures[metric_id],
                    }
                    for metric_id, mean in summary.mean_scores.items()
                },
            }
            for summary in results.summaries
        ],
        "rows": [
            {
                "index": row.index,
                "values": row.values,
                "results": {
                    alias: _cell_data(cell, results.metrics)
                    for alias, cell in zip(results.models, row.cells, strict=True)
                },
            }
            for row in results.rows
        ],
    }


class EvaluationResultsApi(OrganizationApi):
    @extend_schema(
        operation_id="evaluations_results",
        summary="Results: rows x models with outputs, scores, tokens and latency; aggregates per model",
        parameters=[
            OpenApiParameter(
                "sort",
                str,
                description='"row", "latency:<model index>", "tokens:<model index>" or '
                '"score:<metric id>:<model index>"; "-" first for descending.',
            )
        ],
        responses={200: OpenApiResponse(description="Results."), **error_responses(401, 403, 404)},
    )
    def get(self, request, evaluation_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        results = evaluation_results(evaluation=evaluation, sort=request.query_params.get("sort"))
        return Response(results_payload(results))


def csv_response(results) -> StreamingHttpResponse:
    response = StreamingHttpResponse(results_csv_lines(results), content_type="text/csv; charset=utf-8")
    filename = f"evaluation-{results.evaluation.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class EvaluationResultsCsvApi(OrganizationApi):
    @extend_schema(
        operation_id="evaluations_results_csv",
        summary="Results as CSV, one line per row x model (cells that a spreadsheet would evaluate are escaped)",
        responses={(200, "text/csv"): OpenApiResponse(description="CSV."), **error_responses(401, 403, 404)},
    )
    def get(self, request, evaluation_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        return csv_response(evaluation_results(evaluation=evaluation, sort=request.query_params.get("sort")))
