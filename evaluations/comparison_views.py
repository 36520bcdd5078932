"""The comparison page (pick evaluations of one dataset, then rows side by side and per-metric changes) and its CSV."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.problems import Invalid
from evaluations.comparison import MAX_COMPARED, ROW_FILTERS, ComparisonNotFound, comparison_get
from evaluations.comparison_export import CSV_PARTS, comparison_csv_response
from evaluations.selectors import evaluation_list, public_id
from integrations.views import membership_of

ROWS_PER_PAGE = 100
CANDIDATES = 100


def _ids(request) -> list[str]:
    return [part for item in request.GET.getlist("ids") for part in item.split(",") if part.strip()]


@login_required
@require_GET
def evaluation_compare_page(request):
    """With 2 or more ids of one dataset: the comparison; otherwise the evaluations to pick from (those of the
    dataset of the first id, if one is given) and what is wrong with the pick."""
    organization = membership_of(request).organization
    ids = _ids(request)
    errors: list[str] = []
    comparison = None
    try:
        comparison = comparison_get(
            organization=organization,
            ids=ids,
            focus=request.GET.get("focus"),
            sort=request.GET.get("sort"),
            show=request.GET.get("show"),
        )
    except ComparisonNotFound as exc:
        raise Http404(str(exc)) from None
    except Invalid as exc:
        errors = [problem.message for problem in exc.errors] if ids else []
    if comparison is None:
        candidates = evaluation_list(organization=organization)
        first = public_id(ids[0]) if ids else None
        chosen = candidates.filter(pk=first).first() if first else None
        if chosen is not None:
            candidates = candidates.filter(dataset_id=chosen.dataset_id)
        return render(
            request,
            "evaluations/compare.html",
            {
                "comparison": None,
                "errors": errors,
                # Oldest first, so that the earlier evaluation (version A) is the baseline when ticked with B.
                "candidates": list(candidates[:CANDIDATES])[::-1],
                "selected": set(ids),
                "chosen": chosen,
                "max_compared": MAX_COMPARED,
            },
        )
    page = Paginator(comparison.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    focus = f"{comparison.focus[0]}:{comparison.focus[1]}" if comparison.focus else ""
    return render(
        request,
        "evaluations/compare.html",
        {
            "comparison": comparison,
            "page": page,
            "ids": ",".join(str(e.pk) for e in comparison.evaluations),
            "focus": focus,
            "row_filters": ROW_FILTERS,
            "table": [_table_row(comparison, row) for row in page.object_list],
            "summary": [
                (item.metric, list(zip(comparison.columns, item.columns, strict=True))) for item in comparison.stats
            ],
            "focus_choices": [
                (f"{m.uuid}:{c.position}", f"{m.name} · {c.label}")
                for m in comparison.metrics
                for c in comparison.columns[1:]
            ],
        },
    )


@login_required
@require_GET
def evaluation_compare_csv_view(request):
    organization = membership_of(request).organization
    part = request.GET.get("part", "rows")
    if part not in CSV_PARTS:
        return HttpResponseBadRequest('part is "rows" or "summary".')
    try:
        comparison = comparison_get(
            organization=organization,
            ids=_ids(request),
            focus=request.GET.get("focus"),
            sort=request.GET.get("sort"),
            show=request.GET.get("show"),
        )
    except ComparisonNotFound as exc:
        raise Http404(str(exc)) from None
    except Invalid as exc:
        return HttpResponseBadRequest(" ".join(problem.message for problem in exc.errors))
    return comparison_csv_response(comparison, part=part)


def _table_row(comparison, row) -> dict:
    """A row as the template shows it: per column the cell and, per metric, (score, change against the baseline)."""
    return {
        "row": row,
        "cells": [
            {
                "cell": cell,
                "scores": [
                    (
                        metric,
                        cell.scores.get(metric.uuid) if cell else None,
                        row.change(metric.uuid, position) if position else None,
                    )
                    for metric in comparison.metrics
                ],
            }
            for position, cell in enumerate(row.cells)
        ],
    }
