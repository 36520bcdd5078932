"""Evaluation pages: list, datasets (upload, preview), metrics, a new evaluation, one evaluation (progress, results)."""

import json

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import strict_json
from core.problems import Invalid, problem, problem_response, problems_from_errors
from evaluations.charts import latency_histogram, score_histogram
from evaluations.code_metric_forms import CodeMetricForm, code_form_initial
from evaluations.dataset_export import dataset_download_response
from evaluations.dataset_selectors import dataset_latest_list, dataset_rows_page, dataset_versions
from evaluations.export import csv_response
from evaluations.forms import DatasetForm, EvaluationForm, MetricForm
from evaluations.models import MetricKind
from evaluations.payloads import score_payload
from evaluations.results import evaluation_results, results_stream
from evaluations.selectors import (
    dataset_get,
    dataset_list,
    evaluation_get,
    evaluation_list,
    evaluation_progress,
    evaluations_progress,
    metric_current,
    metric_get,
    metric_list,
    metric_usage,
    metric_versions,
    metrics_judge_missing,
    run_scores_get,
)
from evaluations.services.common import IdempotencyKeyInvalid, InUse
from evaluations.services.datasets import dataset_create, dataset_delete
from evaluations.services.lifecycle import (
    evaluation_cancel,
    evaluation_create,
    evaluation_create_once,
)
from evaluations.services.metrics import (
    MetricInUse,
    metric_create,
    metric_create_once,
    metric_delete,
    metric_update,
)
from evaluations.services.permissions import can_change_metric, can_delete
from evaluations.services.rerun import RerunRefused, evaluation_rerun, evaluation_rerunnable
from evaluations.services.scoring import run_scores_request
from integrations.selectors import model_groups
from integrations.views import membership_of
from prompts.selectors import prompt_version_options

RESULTS_PER_PAGE = 100
DATASET_ROWS_PER_PAGE = 50
LIVE = ("creating", "running")  # statuses whose progress the page polls


def _organization(request):
    return membership_of(request).organization


def _dataset_or_404(request, dataset_id):
    dataset = dataset_get(organization=_organization(request), dataset_id=dataset_id)
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


def _evaluation_or_404(request, evaluation_id):
    evaluation = evaluation_get(organization=_organization(request), evaluation_id=evaluation_id)
    if evaluation is None:
        raise Http404("No such evaluation.")
    return evaluation


@login_required
@require_GET
def evaluation_list_page(request):
    organization = _organization(request)
    evaluations = list(evaluation_list(organization=organization)[:100])
    progress = evaluations_progress(evaluations=evaluations)
    rows = [{"evaluation": e, "progress": p} for e, p in zip(evaluations, progress, strict=True)]
    return render(request, "evaluations/list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def datasets_page(request):
    organization = _organization(request)
    posted = request.method == "POST"
    form = DatasetForm(request.POST if posted else None, request.FILES if posted else None)
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            dataset = dataset_create(
                organization=organization,
                user=request.user,
                name=form.cleaned_data["name"],
                text=None if upload else form.cleaned_data["content"],
                data=upload.read() if upload else None,
                format=form.cleaned_data["format"] or "auto",
                file_name=upload.name if upload else "",
            )
        except Invalid as exc:
            form.add_problems(exc)
        else:
            flash.success(request, f"Dataset “{dataset.name}” saved: {dataset.row_count} rows.")
            return redirect("evaluations:dataset", dataset_id=dataset.uuid)
    return render(
        request,
        "evaluations/datasets.html",
        {"datasets": dataset_latest_list(organization=organization), "form": form, "errors": form.summary()},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
def dataset_page(request, dataset_id):
    """The dataset's rows a page at a time (?page=, DATASET_ROWS_PER_PAGE rows), its versions and downloads."""
    dataset = _dataset_or_404(request, dataset_id)
    pages = Paginator(range(dataset.row_count), DATASET_ROWS_PER_PAGE)  # only for the page number's validation
    number = pages.get_page(request.GET.get("page")).number
    versions = dataset_versions(dataset=dataset)
    return render(
        request,
        "evaluations/dataset.html",
        {
            "dataset": dataset,
            "rows_page": dataset_rows_page(dataset=dataset, page=number, size=DATASET_ROWS_PER_PAGE),
            "versions": versions,
            "latest": versions[0],
            "can_delete": can_delete(user=request.user, obj=dataset),
        },
    )


@login_required
@require_GET
def dataset_download_view(request, dataset_id):
    return dataset_download_response(_dataset_or_404(request, dataset_id))


@login_required
@require_POST
def dataset_delete_view(request, dataset_id):
    dataset = _dataset_or_404(request, dataset_id)
    if not can_delete(user=request.user, obj=dataset):
        raise PermissionDenied("Only admins and the dataset's creator may delete it.")
    try:
        dataset_delete(dataset=dataset)
    except InUse as exc:
        flash.error(request, str(exc))
        return redirect("evaluations:dataset", dataset_id=dataset.uuid)
    flash.success(request, f"Dataset “{dataset.name}” deleted.")
    return redirect("evaluations:datasets")


@login_required
@require_http_methods(["GET", "POST"])
def metrics_page(request):
    organization = _organization(request)
    form = MetricForm(
        request.POST if request.method == "POST" else None, groups=model_groups(organization=organization)
    )
    if form.is_bound and form.is_valid():
        fields = {key: value for key, value in form.cleaned_data.items() if key != "idempotency_key"}
        try:
            metric = _metric_create_once(request, form.cleaned_data["idempotency_key"], **fields)
        except Invalid as exc:
            form.add_problems(exc)
        else:
            flash.success(request, f"Metric “{metric.name}” saved.")
            return redirect("evaluations:metrics")
    return render(
        request,
        "evaluations/metrics.html",
        {
            **_metric_rows(request, organization),
            "form": form,
            "errors": form.summary(),
            "code_form": CodeMetricForm(prefix="code"),
        },
        status=422 if form.errors else 200,
    )


def _metric_create_once(request, key: str, **fields):
    """A metrics page form's new metric, once per form token: a double click on Save opens the metric the first
    click saved. Raises Invalid as metric_create does."""
    organization = _organization(request)
    try:
        metric, _ = metric_create_once(organization=organization, user=request.user, idempotency_key=key, **fields)
    except IdempotencyKeyInvalid:
        # A form changed after its first submit (Back, edit, submit), or one without a token, is a new metric.
        metric = metric_create(organization=organization, user=request.user, **fields)
    return metric


def _metric_rows(request, organization) -> dict:
    """The metrics page's list: each current metric with its state (judge model gone) and what the user may do."""
    metrics = list(metric_list(organization=organization))
    missing = metrics_judge_missing(organization=organization, metrics=metrics)
    return {
        "metrics": metrics,
        "metric_rows": [
            {
                "metric": metric,
                "judge_missing": metric.uuid in missing,
                "can_change": can_change_metric(user=request.user, metric=metric),
            }
            for metric in metrics
        ],
    }


def _metric_or_404(request, metric_id):
    metric = metric_get(organization=_organization(request), metric_id=metric_id)
    if metric is None:
        raise Http404("No such metric.")
    return metric


@login_required
@require_http_methods(["GET", "POST"])
def metric_edit_view(request, metric_id):
    """Edit a metric: saving makes its next version (evaluations and scores keep the version they used).

    Opening a replaced version opens the current one. Saving an edit of a version replaced meanwhile (someone else
    saved first) saves nothing and shows the form again with what was typed, and a link to the current version.
    """
    organization = _organization(request)
    metric = _metric_or_404(request, metric_id)
    current = metric_current(metric=metric)
    if current.pk != metric.pk and request.method != "POST":
        return redirect("evaluations:metric-edit", metric_id=current.uuid)
    if not can_change_metric(user=request.user, metric=metric):
        raise PermissionDenied("Only admins and the metric's creator may edit it.")
    posted = request.POST if request.method == "POST" else None
    if metric.is_code:
        form = CodeMetricForm(posted, prefix="code", initial=code_form_initial(metric))
    else:
        form = MetricForm(
            posted,
            groups=model_groups(organization=organization),
            initial={
                "name": metric.name,
                "judge_model": metric.judge_model,
                "judges": metric.judges,
                "prompt": metric.prompt,
                "parameters": json.dumps(metric.parameters) if metric.parameters else "",
            },
        )
    if form.is_bound and form.is_valid():
        if metric.is_code:
            changes = {"name": form.cleaned_data["name"], "code": form.code()}
        else:
            changes = {key: form.cleaned_data[key] for key in ("name", "judge_model", "judges", "prompt", "parameters")}
        try:
            saved = metric_update(metric=metric, user=request.user, **changes)
        except Invalid as exc:
            # "Not the current version" is told by the page's notice (who saved which version, a link to it).
            problems = [error for error in exc.errors if error.type != "replaced"]
            if len(problems) < len(exc.errors):
                metric.refresh_from_db(fields=["replaced_at"])  # replaced during this very request, maybe
                current = metric_current(metric=metric)
            if problems:
                form.add_problems(Invalid(problems))
        else:
            if saved.pk == metric.pk:
                flash.info(request, f"Nothing changed in “{metric.name}”.")
            else:
                flash.success(request, f"Metric “{saved.name}” saved as version {saved.version}.")
            return redirect("evaluations:metrics")
    return render(
        request,
        "evaluations/metric_edit.html",
        {
            "metric": metric,
            "form": form,
            "errors": form.summary(),
            "versions": metric_versions(metric=metric),
            "judge_missing": metric.uuid in metrics_judge_missing(organization=organization, metrics=[metric]),
            # metric_update refuses the stale version ("replaced"); the page says who won and where it is.
            "replaced_by": current if current.pk != metric.pk else None,
        },
        status=409 if current.pk != metric.pk else 422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def metric_delete_view(request, metric_id):
    """Confirm, then delete a metric with its versions; one in use is not deleted, and the page says what uses it."""
    metric = metric_current(metric=_metric_or_404(request, metric_id))
    if not can_change_metric(user=request.user, metric=metric):
        raise PermissionDenied("Only admins and the metric's creator may delete it.")
    refused = None
    if request.method == "POST":
        try:
            metric_delete(metric=metric)
        except MetricInUse as exc:
            refused = str(exc)
        else:
            flash.success(request, f"Metric “{metric.name}” deleted.")
            return redirect("evaluations:metrics")
    return render(
        request,
        "evaluations/metric_delete.html",
        {"metric": metric, "usage": metric_usage(metric=metric), "refused": refused},
        status=409 if refused else 200,
    )


@login_required
@require_POST
def code_metric_create_view(request):
    """The metrics page's code metric form: saved, or the page again with its problems by field."""
    organization = _organization(request)
    code_form = CodeMetricForm(request.POST, prefix="code")
    if code_form.is_valid():
        try:
            metric = _metric_create_once(
                request,
                code_form.cleaned_data["idempotency_key"],
                name=code_form.cleaned_data["name"],
                kind=MetricKind.CODE,
                code=code_form.code(),
            )
        except Invalid as exc:
            code_form.add_problems(exc)
        else:
            flash.success(request, f"Metric “{metric.name}” saved.")
            return redirect("evaluations:metrics")
    return render(
        request,
        "evaluations/metrics.html",
        {
            **_metric_rows(request, organization),
            "form": MetricForm(groups=model_groups(organization=organization)),
            "errors": [],
            "code_form": code_form,
            "code_errors": code_form.summary(),
        },
        status=422,
    )


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_new_page(request):
    organization = _organization(request)
    datasets = list(dataset_list(organization=organization))
    prompts = prompt_version_options(organization=organization)
    metrics = list(metric_list(organization=organization))
    form = EvaluationForm(
        request.POST if request.method == "POST" else None,
        initial={"dataset": request.GET.get("dataset", "")},
        datasets=datasets,
        groups=model_groups(organization=organization),
        metrics=metrics,
        prompt_versions=prompts,
        judge_missing=metrics_judge_missing(organization=organization, metrics=metrics),
    )
    if form.is_bound and form.is_valid():
        request_fields = {
            "name": form.cleaned_data["name"],
            "dataset": form.cleaned_data["dataset"],
            "messages": form.messages(),
            "prompt_version": form.cleaned_data["prompt_version"] or None,
            "models": form.cleaned_data["columns"],
            "metrics": form.cleaned_data["metrics"],
        }
        key = form.cleaned_data["idempotency_key"]
        try:
            try:
                evaluation, _ = evaluation_create_once(
                    organization=organization, user=request.user, idempotency_key=key, **request_fields
                )
            except IdempotencyKeyInvalid:
                # A form changed after its first submit (Back, edit, submit) is a new evaluation, not a replay.
                evaluation = evaluation_create(organization=organization, user=request.user, **request_fields)
        except Invalid as exc:
            form.add_problems(exc)
        else:
            return redirect("evaluations:detail", evaluation_id=evaluation.pk)
    return render(
        request,
        "evaluations/new.html",
        {
            "datasets": datasets,
            "form": form,
            "errors": form.summary(),
            # The page shows the chosen version's messages (static/evaluations/new.js).
            "prompt_version_messages": {
                version["id"]: {"messages": version["messages"], "parameters": version["parameters"]}
                for prompt in prompts
                for version in prompt["versions"]
            },
        },
        status=422 if form.errors else 200,
    )


def _sort_link(current: str, key: str) -> dict:
    """The header's link (ascending first, then descending) and its aria-sort."""
    if current == key:
        return {"href": f"?sort=-{key}", "aria_sort": "ascending", "arrow": "▲"}
    if current == f"-{key}":
        return {"href": f"?sort={key}", "aria_sort": "descending", "arrow": "▼"}
    return {"href": f"?sort={key}", "aria_sort": "none", "arrow": ""}


@login_required
@require_GET
def evaluation_page(request, evaluation_id):
    evaluation = _evaluation_or_404(request, evaluation_id)
    results = evaluation_results(
        evaluation=evaluation, sort=request.GET.get("sort"), page=request.GET.get("page"), page_size=RESULTS_PER_PAGE
    )
    page = results.page
    progress = evaluation_progress(evaluation=evaluation)
    summaries = []
    for summary in results.summaries:
        charts = [
            score_histogram(summary.score_bins[metric.uuid], metric_name=metric.name) for metric in results.metrics
        ]
        charts.append(latency_histogram(summary.latency_bins))
        scores = [
            (metric, summary.mean_scores[metric.uuid], summary.score_failures[metric.uuid])
            for metric in results.metrics
        ]
        summaries.append({"summary": summary, "charts": charts, "scores": scores})
    sort_links = {
        "row": _sort_link(results.sort, "row"),
        "models": [
            {
                "alias": alias,
                "latency": _sort_link(results.sort, f"latency:{position}"),
                "tokens": _sort_link(results.sort, f"tokens:{position}"),
                "metrics": [
                    {"metric": metric, "link": _sort_link(results.sort, f"score:{metric.uuid}:{position}")}
                    for metric in results.metrics
                ],
            }
            for position, alias in enumerate(results.models)
        ],
    }
    return render(
        request,
        "evaluations/detail.html",
        {
            "evaluation": evaluation,
            "progress": progress,
            "results": results,
            "page": page,
            "summaries": summaries,
            "sort_links": sort_links,
            "can_cancel": can_delete(user=request.user, obj=evaluation) and evaluation.status in LIVE,
            "rerunnable": evaluation_rerunnable(evaluation=evaluation, progress=progress),
        },
    )


@login_required
@require_GET
def evaluation_progress_view(request, evaluation_id):
    """Counts from one aggregate query (a read: the workers advance the evaluation).

    htmx's polling (HX-Request) gets the page's progress section (evaluations/_progress.html), and a full reload
    (HX-Refresh) once the evaluation stops running, so that the results table is complete; other callers the JSON.
    """
    evaluation = _evaluation_or_404(request, evaluation_id)
    progress = evaluation_progress(evaluation=evaluation)
    if not request.headers.get("HX-Request"):
        return JsonResponse(progress.as_dict())
    response = render(request, "evaluations/_progress.html", {"evaluation": evaluation, "progress": progress})
    if evaluation.status not in LIVE:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def evaluation_cancel_view(request, evaluation_id):
    evaluation = _evaluation_or_404(request, evaluation_id)
    if not can_delete(user=request.user, obj=evaluation):
        raise PermissionDenied("Only admins and the evaluation's creator may cancel it.")
    cancelled = evaluation_cancel(evaluation=evaluation)
    flash.success(request, f"Evaluation cancelled: {cancelled} queued run{'s' if cancelled != 1 else ''} will not run.")
    return redirect("evaluations:detail", evaluation_id=evaluation.pk)


@login_required
@require_POST
def evaluation_rerun_view(request, evaluation_id):
    """Re-run the failed outputs or judges (`scope`), then back to the page, which shows them running."""
    evaluation = _evaluation_or_404(request, evaluation_id)
    scope = request.POST.get("scope", "")
    try:
        started = evaluation_rerun(evaluation=evaluation, scope=scope)
    except RerunRefused as exc:
        flash.error(request, str(exc))
    except Invalid as exc:
        flash.error(request, " ".join(problem.message for problem in exc.errors))
    else:
        what = "output" if scope == "outputs" else "judge"
        flash.success(request, f"Re-running {started} failed {what}{'s' if started != 1 else ''}.")
    return redirect("evaluations:detail", evaluation_id=evaluation.pk)


@login_required
@require_GET
def evaluation_csv_view(request, evaluation_id):
    evaluation = _evaluation_or_404(request, evaluation_id)
    return csv_response(results_stream(evaluation=evaluation, sort=request.GET.get("sort")))


@login_required
@require_http_methods(["GET", "POST"])
def metric_scores_view(request, metric_id):
    """For the Playground's script: POST {"runs": [ids]} judges them (202); GET ?run=<id>&run=... reads the scores."""
    organization = _organization(request)
    metric = metric_get(organization=organization, metric_id=metric_id)
    if metric is None:
        raise Http404("No such metric.")
    if request.method == "GET":
        scores = run_scores_get(organization=organization, runs=request.GET.getlist("run"), metric=metric)
        return JsonResponse({"scores": [score_payload(score) for score in scores]})
    try:
        body = strict_json.loads(request.body or b"{}")
    except (ValueError, RecursionError) as exc:
        return problem_response([problem(["body"], strict_json.error_message(exc), "json_invalid")], status=400)
    try:
        scores = run_scores_request(
            organization=organization,
            user=request.user,
            metric=metric,
            runs=body.get("runs") if isinstance(body, dict) else None,
        )
    except Invalid as exc:
        return problem_response(problems_from_errors(exc.errors))
    return JsonResponse({"scores": [score_payload(score) for score in scores]}, status=202)
