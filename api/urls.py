from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from api.views.comparisons import EvaluationCompareApi, EvaluationCompareCsvApi
from api.views.datasets import DatasetDetailApi, DatasetDownloadApi, DatasetRowsApi, DatasetsApi
from api.views.evaluations import (
    EvaluationCancelApi,
    EvaluationDetailApi,
    EvaluationOutputApi,
    EvaluationRerunApi,
    EvaluationResultsApi,
    EvaluationResultsCsvApi,
    EvaluationsApi,
)
from api.views.integrations import (
    DefaultCustomIntegrationApi,
    IntegrationDefinitionApi,
    IntegrationListApi,
    LlmIntegrationListApi,
    NamedCustomIntegrationApi,
)
from api.views.metrics import MetricDetailApi, MetricsApi, MetricScoresApi
from api.views.parameter_rules import ParameterRuleDetailApi, ParameterRuleListApi, ParameterRulePinApi
from api.views.prompts import PromptDetailApi, PromptLabelApi, PromptsApi, PromptVersionDetailApi, PromptVersionsApi
from api.views.runs import RunCancelApi, RunDetailApi, RunsApi


class NotFoundApi(APIView):
    """Any other path under /api/v2/: a JSON 404 rather than Django's HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound("No such API path; see /api/v2/docs.")


public = {"authentication_classes": [], "permission_classes": [AllowAny]}

urlpatterns = [
    path("integrations", IntegrationListApi.as_view(), name="api-integrations"),
    path("integrations/custom", DefaultCustomIntegrationApi.as_view(), name="api-integration-custom"),
    # Any name reaches the views: a PUT with a name that is not a slug is a 422 on the path, a read a 404.
    path("integrations/custom/<str:name>", NamedCustomIntegrationApi.as_view(), name="api-integration"),
    path(
        "integrations/custom/<str:name>/definition",
        IntegrationDefinitionApi.as_view(),
        name="api-integration-definition",
    ),
    path(
        "integrations/<uuid:integration_id>/parameter-rules",
        ParameterRuleListApi.as_view(),
        name="api-parameter-rules",
    ),
    path(
        "integrations/<uuid:integration_id>/parameter-rules/<uuid:rule_id>",
        ParameterRuleDetailApi.as_view(),
        name="api-parameter-rule",
    ),
    path(
        "integrations/<uuid:integration_id>/parameter-rules/<uuid:rule_id>/pin",
        ParameterRulePinApi.as_view(),
        name="api-parameter-rule-pin",
    ),
    path("llm_integrations", LlmIntegrationListApi.as_view(), name="api-llm-integrations"),
    path("runs", RunsApi.as_view(), name="api-runs"),
    path("runs/<uuid:run_id>", RunDetailApi.as_view(), name="api-run"),
    path("runs/<uuid:run_id>/cancel", RunCancelApi.as_view(), name="api-run-cancel"),
    path("datasets", DatasetsApi.as_view(), name="api-datasets"),
    path("datasets/<uuid:dataset_id>", DatasetDetailApi.as_view(), name="api-dataset"),
    path("datasets/<uuid:dataset_id>/rows", DatasetRowsApi.as_view(), name="api-dataset-rows"),
    path("datasets/<uuid:dataset_id>/download", DatasetDownloadApi.as_view(), name="api-dataset-download"),
    path("metrics", MetricsApi.as_view(), name="api-metrics"),
    path("metrics/<uuid:metric_id>", MetricDetailApi.as_view(), name="api-metric"),
    path("metrics/<uuid:metric_id>/scores", MetricScoresApi.as_view(), name="api-metric-scores"),
    path("evaluations", EvaluationsApi.as_view(), name="api-evaluations"),
    path("evaluations/compare", EvaluationCompareApi.as_view(), name="api-evaluations-compare"),
    path("evaluations/compare.csv", EvaluationCompareCsvApi.as_view(), name="api-evaluations-compare-csv"),
    path("evaluations/<uuid:evaluation_id>", EvaluationDetailApi.as_view(), name="api-evaluation"),
    path("evaluations/<uuid:evaluation_id>/cancel", EvaluationCancelApi.as_view(), name="api-evaluation-cancel"),
    path("evaluations/<uuid:evaluation_id>/results", EvaluationResultsApi.as_view(), name="api-evaluation-results"),
    path(
        "evaluations/<uuid:evaluation_id>/outputs/<uuid:run_id>",
        EvaluationOutputApi.as_view(),
        name="api-evaluation-output",
    ),
    path("evaluations/<uuid:evaluation_id>/rerun", EvaluationRerunApi.as_view(), name="api-evaluation-rerun"),
    path(
        "evaluations/<uuid:evaluation_id>/results.csv",
        EvaluationResultsCsvApi.as_view(),
        name="api-evaluation-results-csv",
    ),
    path("prompts", PromptsApi.as_view(), name="api-prompts"),
    path("prompts/<uuid:prompt_id>", PromptDetailApi.as_view(), name="api-prompt"),
    path("prompts/<uuid:prompt_id>/versions", PromptVersionsApi.as_view(), name="api-prompt-versions"),
    path(
        "prompts/<uuid:prompt_id>/versions/<int:number>",
        PromptVersionDetailApi.as_view(),
        name="api-prompt-version",
    ),
    path("prompts/<uuid:prompt_id>/labels/<str:label>", PromptLabelApi.as_view(), name="api-prompt-label"),
    path("schema", SpectacularJSONAPIView.as_view(**public), name="api-schema"),
    # The split view serves its start-up script from a URL, so the page needs no inline script (CSP).
    path(
        "docs",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema", **public)
        ),
        name="api-docs",
    ),
    re_path(r"^[\s\S]*$", NotFoundApi.as_view()),  # any path, also one with a newline
]
