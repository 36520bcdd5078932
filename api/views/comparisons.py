"""Comparing evaluations of the same dataset: per row side by side, per metric the change with its 95 % CI."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.errors import Unprocessable
from api.schema import error_responses
from api.views.base import OrganizationApi
from core.problems import Invalid, Problem
from evaluations.comparison import ComparisonNotFound, comparison_get
from evaluations.comparison_export import CSV_PARTS, comparison_csv_response, comparison_payload

PARAMETERS = [
    OpenApiParameter(
        "ids",
        str,
        required=True,
        description="2 to 8 evaluation ids of the same dataset, comma-separated (or repeated); the first "
        "evaluation's first model is the baseline.",
    ),
    OpenApiParameter(
        "focus", str, description='"<metric id>:<column>" that `sort` and `show` look at (default: first metric, 1).'
    ),
    OpenApiParameter("sort", str, description='"row", "change", "-change", "score" or "-score".'),
    OpenApiParameter("show", str, description='Rows to list: "all", "better", "worse" or "unchanged".'),
]


def _comparison(view: OrganizationApi, request):
    try:
        return comparison_get(
            organization=view.organization,
            ids=request.query_params.getlist("ids"),
            focus=request.query_params.get("focus"),
            sort=request.query_params.get("sort"),
            show=request.query_params.get("show"),
        )
    except ComparisonNotFound as exc:
        raise NotFound(str(exc)) from None
    except Invalid as exc:
        raise Unprocessable.from_document_errors(exc.errors, where="query") from None


class EvaluationCompareApi(OrganizationApi):
    @extend_schema(
        operation_id="evaluations_compare",
        summary="Compare evaluations of the same dataset: rows side by side, per metric the change against the "
        "baseline with a paired 95 % t-interval",
        description=(
            "Columns are every (evaluation, model) in the order given. Per metric and column: `mean` of the scored "
            "rows; against the baseline (column 0) `change`: the mean paired difference over rows scored in both, "
            "`ci_low`/`ci_high` (paired t-interval, 95 %), and the rows that got better, worse or stayed unchanged. "
            "An id of another organisation is a 404; fewer than 2 or more than 8 ids, one that is no UUID, a "
            "repeated id or an evaluation of another "
            'dataset is a 422 (`loc` `["query", "ids", 1]`).'
        ),
        parameters=PARAMETERS,
        responses={200: OpenApiResponse(description="The comparison."), **error_responses(401, 403, 404, 422)},
    )
    def get(self, request):
        return Response(comparison_payload(_comparison(self, request)))


class EvaluationCompareCsvApi(OrganizationApi):
    @extend_schema(
        operation_id="evaluations_compare_csv",
        summary="A comparison as CSV (UTF-8 with a byte order mark; formula cells escaped)",
        parameters=[
            *PARAMETERS,
            OpenApiParameter("part", str, description='"rows" (one line per row) or "summary" (per metric x column).'),
        ],
        responses={(200, "text/csv"): OpenApiResponse(description="CSV."), **error_responses(401, 403, 404, 422)},
    )
    def get(self, request):
        part = request.query_params.get("part", "rows")
        if part not in CSV_PARTS:
            raise Unprocessable.from_document_errors(
                [Problem(("part",), '"rows" or "summary".', "enum")], where="query"
            )
        return comparison_csv_response(_comparison(self, request), part=part)
