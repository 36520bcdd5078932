"""Routes under /api/v2/ (included by api/urls.py before its catch-all)."""

from django.urls import path

from evaluations import api

urlpatterns = [
    path("datasets", api.DatasetsApi.as_view(), name="api-datasets"),
    path("datasets/<int:dataset_id>", api.DatasetDetailApi.as_view(), name="api-dataset"),
    path("metrics", api.MetricsApi.as_view(), name="api-metrics"),
    path("metrics/<int:metric_id>", api.MetricDetailApi.as_view(), name="api-metric"),
    path("metrics/<int:metric_id>/scores", api.MetricScoresApi.as_view(), name="api-metric-scores"),
    path("evaluations", api.EvaluationsApi.as_view(), name="api-evaluations"),
    path("evaluations/<uuid:evaluation_id>", api.EvaluationDetailApi.as_view(), name="api-evaluation"),
    path("evaluations/<uuid:evaluation_id>/cancel", api.EvaluationCancelApi.as_view(), name="api-evaluation-cancel"),
    path("evaluations/<uuid:evaluation_id>/results", api.EvaluationResultsApi.as_view(), name="api-evaluation-results"),
    path(
        "evaluations/<uuid:evaluation_id>/results.csv",
        api.EvaluationResultsCsvApi.as_view(),
        name="api-evaluation-results-csv",
    ),
]
