"""Evaluations: list, start (202), read with progress, cancel, results (JSON and CSV), one output, re-run failures.

Same conventions as the other views: members of the organisation read and run, admins and the creator cancel;
anything of another organisation is a 404; invalid input is a 422 with `loc`. Reads only read: the workers advance
an evaluation as its runs finish.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.errors import Unprocessable
from api.schema import error_responses
from api.serializers import StrictCharField, TimestampField
from api.views.base import OrganizationApi, found
from api.views.runs import StrictUUIDField
from evaluations.export import csv_response
from evaluations.results import MAX_PAGE_SIZE, PAGE_SIZE, evaluation_results, output_detail, results_stream
from evaluations.selectors import evaluation_get, evaluation_list, evaluation_progress
from evaluations.services.common import IdempotencyKeyInvalid
from evaluations.services.lifecycle import (
    evaluation_cancel,
    evaluation_create,
    evaluation_create_once,
)
from evaluations.services.permissions import can_delete
from evaluations.services.rerun import RERUN_SCOPES, RerunRefused, evaluation_rerun, evaluation_rerunnable


class ProgressOutput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["creating", "running", "completed", "cancelled"],
        help_text='"creating" while a worker makes the runs of a large evaluation (nothing is queued yet).',
    )
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
    dataset = serializers.UUIDField(source="dataset.uuid")
    messages = serializers.JSONField()
    prompt_version = serializers.UUIDField(
        source="prompt_version_id", allow_null=True, help_text="The saved prompt version the messages came from."
    )
    models = serializers.JSONField(source="model_columns")
    metrics = serializers.SerializerMethodField()
    job = serializers.UUIDField(source="job_id")
    judge_job = serializers.UUIDField(source="judge_job_id")
    total_runs = serializers.IntegerField()
    created_at = TimestampField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    cancelled_at = TimestampField(allow_null=True)
    finished_at = TimestampField(allow_null=True)

    def get_metrics(self, evaluation) -> list[str]:
        return sorted(str(metric.uuid) for metric in evaluation.metrics.all())


class EvaluationDetailOutput(EvaluationOutput):
    progress = serializers.SerializerMethodField()

    @extend_schema_field(ProgressOutput)
    def get_progress(self, evaluation):
        return evaluation_progress(evaluation=evaluation).as_dict()


class EvaluationsApi(OrganizationApi):
    class ModelColumnInput(serializers.Serializer):
        model = StrictCharField(max_length=255, help_text="A model alias.")
        parameters = serializers.JSONField(required=False, allow_null=True)

    class EvaluationCreateInput(serializers.Serializer):
        name = StrictCharField(max_length=200, required=False, allow_blank=True)
        dataset = serializers.UUIDField(help_text="A dataset's id.")
        messages = serializers.JSONField(
            required=False,
            allow_null=True,
            help_text="Chat messages; {{column}} takes each row's value. Or give `prompt_version`.",
        )
        prompt_version = StrictUUIDField(
            required=False,
            help_text="A saved prompt version's id (`/api/v2/prompts/{id}/versions`): its messages and parameters "
            "(each model's parameters override them), instead of `messages`.",
        )
        models = serializers.JSONField(help_text='[{"model": alias, "parameters": {...}}], 1 to 4.')
        metrics = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)

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
            "Answers 202 at once: up to 1,000 runs are queued by then; a larger evaluation is `creating` while a "
            "worker makes its runs. Poll `GET /api/v2/evaluations/{id}`. A row without a value for "
            'a prompt variable is a 422 before anything is queued (`loc` `["body", "dataset", "rows", 3, "question"]`).'
            " With an `Idempotency-Key` header (1 to 255 visible ASCII characters, e.g. a UUID) a retried request "
            "creates nothing new: it answers the first evaluation with `Idempotent-Replayed: true`; the same key "
            'with another body is a 422 (`loc` `["header", "Idempotency-Key"]`, type `idempotency_conflict`).'
        ),
        request=EvaluationCreateInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Makes a retried request return the first evaluation instead of creating another.",
            )
        ],
        responses={202: EvaluationDetailOutput, **error_responses(401, 403, 422)},
    )
    def post(self, request):
        data = self.validated(self.EvaluationCreateInput, request.data, where="body")
        headers = {}
        key = request.headers.get("Idempotency-Key")
        if key is None:
            evaluation = evaluation_create(organization=self.organization, user=request.user, **data)
        else:
            try:
                evaluation, created = evaluation_create_once(
                    organization=self.organization, user=request.user, idempotency_key=key, **data
                )
            except IdempotencyKeyInvalid as exc:
                raise Unprocessable.from_document_errors(exc.errors, where="header") from None
            if not created:
                headers["Idempotent-Replayed"] = "true"
        headers["Location"] = f"/api/v2/evaluations/{evaluation.pk}"
        return Response(EvaluationDetailOutput(evaluation).data, status=status.HTTP_202_ACCEPTED, headers=headers)


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
            str(metric.uuid): (
                {
                    "status": score.status,
                    "mean": score.mean,
                    "judgements": score.judgements,
                    "error": score.error or None,
                }
                if (score := cell.score(metric.uuid))
                else None
            )
            for metric in metrics
        },
    }


def _page_link(request, number: int) -> str:
    query = request.query_params.copy()
    query["page"] = str(number)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def results_payload(results, request) -> dict:
    page = results.page
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": page.paginator.per_page,
        "pages": page.paginator.num_pages,
        "next": _page_link(request, page.next_page_number()) if page.has_next() else None,
        "previous": _page_link(request, page.previous_page_number()) if page.has_previous() else None,
        "sort": results.sort,
        "models": results.models,
        "metrics": [{"id": str(metric.uuid), "name": metric.name} for metric in results.metrics],
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
                        "scored": summary.scored[metric_id],
                        "failed": summary.score_failures[metric_id],
                        "judges": summary.judge_outcomes[metric_id],
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
        summary="Results: a page of rows x models with outputs, scores, tokens and latency; aggregates per model",
        description=(
            "Paged: `page` (from 1; past the last is the last) and `page_size` (1 to "
            f"{MAX_PAGE_SIZE}, default {PAGE_SIZE}) rows, each with every model's result; `next` and `previous` "
            "link to the neighbouring pages, `count` is the number of rows. The aggregates are over every row."
        ),
        parameters=[
            OpenApiParameter("page", int, description="The page, from 1."),
            OpenApiParameter("page_size", int, description=f"Rows per page, 1 to {MAX_PAGE_SIZE}."),
            OpenApiParameter(
                "sort",
                str,
                description='"row", "latency:<model index>", "tokens:<model index>" or '
                '"score:<metric id>:<model index>"; "-" first for descending.',
            ),
        ],
        responses={200: OpenApiResponse(description="Results."), **error_responses(401, 403, 404)},
    )
    def get(self, request, evaluation_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        results = evaluation_results(
            evaluation=evaluation,
            sort=request.query_params.get("sort"),
            page=request.query_params.get("page"),
            page_size=request.query_params.get("page_size", PAGE_SIZE),
        )
        return Response(results_payload(results, request))


class EvaluationResultsCsvApi(OrganizationApi):
    @extend_schema(
        operation_id="evaluations_results_csv",
        summary="Results as CSV, one line per row x model (cells that a spreadsheet would evaluate are escaped)",
        responses={(200, "text/csv"): OpenApiResponse(description="CSV."), **error_responses(401, 403, 404)},
    )
    def get(self, request, evaluation_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        return csv_response(results_stream(evaluation=evaluation, sort=request.query_params.get("sort")))


class EvaluationOutputApi(OrganizationApi):
    @extend_schema(
        operation_id="evaluations_output",
        summary="One output of an evaluation: its run (request with secrets redacted), earlier attempts, scores",
        description=(
            "What a results cell opens: the row, the model, the output's current run as `GET /api/v2/runs/{id}` "
            "reads it (messages as sent, `request` with secrets redacted, output, reasoning, tool calls, usage, "
            "latency, error), `attempts` (earlier runs replaced by re-running failed outputs, newest first) and per "
            "metric the score with each judge's verdict and reason (and reasoning when the judge gave one) and its "
            "judge runs, earlier attempts included (`superseded`). `run_id` is the output's current run or an "
            "earlier attempt; anything else, or another organisation's evaluation, is a 404."
        ),
        responses={200: OpenApiResponse(description="The output."), **error_responses(401, 403, 404)},
    )
    def get(self, request, evaluation_id, run_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        return Response(found(output_detail(evaluation=evaluation, run_id=run_id), "output of this evaluation"))


class RerunnableOutput(serializers.Serializer):
    outputs = serializers.IntegerField(help_text="Failed outputs (not cancelled ones) that a re-run would start.")
    judges = serializers.IntegerField(help_text="Failed judge runs (the run failed, or answered no verdict).")
    reason = serializers.CharField(allow_null=True, help_text="Why nothing can be re-run now; null when it can.")


class EvaluationRerunApi(OrganizationApi):
    class RerunInput(serializers.Serializer):
        scope = serializers.ChoiceField(
            choices=RERUN_SCOPES, help_text='"outputs": the failed outputs; "judges": the failed judges.'
        )

    @extend_schema(
        operation_id="evaluations_rerunnable",
        summary="What re-running would start: the failed outputs and failed judges, and why not when it cannot",
        responses={200: RerunnableOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request, evaluation_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        return Response(evaluation_rerunnable(evaluation=evaluation).as_dict())

    @extend_schema(
        operation_id="evaluations_rerun",
        summary="Re-run the failed outputs, or the failed judges, of a finished evaluation in place",
        description=(
            "The same evaluation and rows: each failed output (or judge) gets a new run, the earlier one stays "
            "readable as a previous attempt (`GET .../outputs/{run_id}`), and the evaluation is `running` until the "
            "new runs are done; progress counters and the summary follow. 202 with the evaluation and `started` "
            "(runs started). 409 while it runs (so a second submit of the same re-run), when it was cancelled, or "
            'when nothing of that scope failed; 422 at `["body", "scope"]` for another scope or a model that no '
            "longer exists."
        ),
        request=RerunInput,
        responses={
            202: EvaluationDetailOutput,
            **error_responses(401, 403, 404, 422),
            409: OpenApiResponse(description="Running, cancelled, or nothing failed."),
        },
    )
    def post(self, request, evaluation_id):
        evaluation = found(evaluation_get(organization=self.organization, evaluation_id=evaluation_id), "evaluation")
        data = self.validated(self.RerunInput, request.data, where="body")
        try:
            started = evaluation_rerun(evaluation=evaluation, scope=data["scope"])
        except RerunRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        body = {**EvaluationDetailOutput(evaluation).data, "started": started}
        return Response(body, status=status.HTTP_202_ACCEPTED)
