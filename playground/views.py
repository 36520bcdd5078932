"""The Playground page and the small JSON views its script uses (start runs, poll them)."""

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import strict_json
from core.problems import Invalid, problem, problem_response, problems_from_errors
from evaluations.dataset_selectors import dataset_latest_list
from integrations.selectors import default_alias, model_groups
from integrations.views import membership_of
from playground.drafts import playground_draft_get, playground_draft_save
from playground.selectors import (
    playground_history,
    playground_job_runs,
    playground_metrics,
    playground_prompt_versions,
    playground_prompts,
    playground_run_live,
)
from playground.services import (
    MAX_COLUMNS,
    history_payloads,
    parameter_specs,
    playground_run,
    remembered_alias,
    run_payload,
)
from runners.cancellation import can_cancel
from runners.cancellation import run_cancel as runner_run_cancel
from runners.models import TERMINAL_STATUSES
from runners.selectors import run_get


def _uuid_or_none(value) -> str | None:
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


@login_required
@require_GET
def playground_page(request):
    membership = membership_of(request)
    groups = model_groups(organization=membership.organization)
    runs = playground_history(organization=membership.organization, user=request.user)
    history = history_payloads(runs)
    metrics = playground_metrics(organization=membership.organization)
    draft = playground_draft_get(user=request.user, organization=membership.organization)
    preselected = remembered_alias(groups, draft) or default_alias(groups)
    prompts = playground_prompts(organization=membership.organization)
    return render(
        request,
        "playground/playground.html",
        {
            "groups": groups,
            "default_alias": preselected,
            "history": history,
            "metrics": metrics,
            "prompts": prompts,
            # A run's answer may be added to one of these (static/js/playground/dataset-rows.js).
            "datasets": list(dataset_latest_list(organization=membership.organization)),
            "page_data": {
                "groups": groups,
                "default_alias": preselected,
                "draft": draft,
                "parameters": parameter_specs(),
                "max_columns": MAX_COLUMNS,
                "prompt_versions": playground_prompt_versions(organization=membership.organization),
                "history": history,
                "open_run": _uuid_or_none(request.GET.get("run")),
                "metrics": metrics,
            },
        },
    )


@login_required
@require_POST
def runs_start(request):
    """Start a run per column. Body: {"messages", "variables", "columns": [{"model", "parameters"}], "stream"}."""
    membership = membership_of(request)
    try:
        body = strict_json.loads(request.body or b"{}")
    except (ValueError, RecursionError) as exc:
        return problem_response([problem(["body"], strict_json.error_message(exc), "json_invalid")], status=400)
    if not isinstance(body, dict):
        body = {}
    try:
        job, runs = playground_run(
            organization=membership.organization,
            user=request.user,
            messages=body.get("messages"),
            variables=body.get("variables"),
            columns=body.get("columns"),
            stream=body.get("stream", True) is not False,
            prompt_version=body.get("prompt_version"),
        )
    except Invalid as exc:
        return problem_response(problems_from_errors(exc.errors))
    return JsonResponse({"job": str(job.pk), "runs": [run_payload(run) for run in runs]}, status=202)


@login_required
@require_GET
def run_detail(request, run_id):
    run = run_get(organization=membership_of(request).organization, run_id=run_id)
    if run is None:
        raise Http404("No such run.")
    return JsonResponse(run_payload(run))


@login_required
@require_GET
def run_live(request, run_id):
    """A running run's status and partial output, polled by the page every 100 ms (playground_run_live)."""
    live = playground_run_live(organization=membership_of(request).organization, run_id=run_id)
    if live is None:
        raise Http404("No such run.")
    return JsonResponse(live)


@login_required
@require_POST
def run_cancel(request, run_id):
    """Stop: the run as it is now (runners.cancellation.run_cancel; a running one stops within a moment)."""
    run = run_get(organization=membership_of(request).organization, run_id=run_id)
    if run is None:
        raise Http404("No such run.")
    if not can_cancel(user=request.user, run=run):
        message = "Only admins and the member who started the run may stop it."
        return problem_response([problem(["run"], message, "permission_denied")], status=403)
    return JsonResponse(run_payload(runner_run_cancel(run=run).run))


@login_required
@require_GET
def job_detail(request, job_id):
    runs = playground_job_runs(organization=membership_of(request).organization, job_id=job_id)
    if runs is None:
        raise Http404("No such job.")
    done = all(run.status in TERMINAL_STATUSES for run in runs)
    return JsonResponse({"job": str(job_id), "done": done, "runs": [run_payload(run) for run in runs]})


@login_required
@require_http_methods(["GET", "PUT"])
def draft(request):
    """The user's Playground draft: GET it (null when none), PUT a new one (the page does, debounced, as it changes)."""
    membership = membership_of(request)
    if request.method == "GET":
        return JsonResponse({"draft": playground_draft_get(user=request.user, organization=membership.organization)})
    try:
        body = strict_json.loads(request.body or b"null")
    except (ValueError, RecursionError) as exc:
        return problem_response([problem(["body"], strict_json.error_message(exc), "json_invalid")], status=400)
    try:
        saved = playground_draft_save(user=request.user, organization=membership.organization, data=body)
    except Invalid as exc:
        return problem_response(problems_from_errors(exc.errors))
    return JsonResponse({"draft": saved.data, "updated_at": saved.updated_at.isoformat()})
