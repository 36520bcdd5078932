from django.urls import path

from evaluations import comparison_views, views

app_name = "evaluations"

urlpatterns = [
    path("evaluations", views.evaluation_list_page, name="list"),
    path("evaluations/new", views.evaluation_new_page, name="new"),
    path("evaluations/compare", comparison_views.evaluation_compare_page, name="compare"),
    path("evaluations/compare.csv", comparison_views.evaluation_compare_csv_view, name="compare-csv"),
    path("evaluations/datasets", views.datasets_page, name="datasets"),
    path("evaluations/datasets/<uuid:dataset_id>", views.dataset_page, name="dataset"),
    path("evaluations/datasets/<uuid:dataset_id>/download", views.dataset_download_view, name="dataset-download"),
    path("evaluations/datasets/<uuid:dataset_id>/delete", views.dataset_delete_view, name="dataset-delete"),
    path("evaluations/metrics", views.metrics_page, name="metrics"),
    path("evaluations/metrics/code", views.code_metric_create_view, name="metric-code"),
    path("evaluations/metrics/<uuid:metric_id>/edit", views.metric_edit_view, name="metric-edit"),
    path("evaluations/metrics/<uuid:metric_id>/delete", views.metric_delete_view, name="metric-delete"),
    path("evaluations/metrics/<uuid:metric_id>/scores", views.metric_scores_view, name="metric-scores"),
    path("evaluations/<uuid:evaluation_id>", views.evaluation_page, name="detail"),
    path("evaluations/<uuid:evaluation_id>/progress", views.evaluation_progress_view, name="progress"),
    path("evaluations/<uuid:evaluation_id>/cancel", views.evaluation_cancel_view, name="cancel"),
    path("evaluations/<uuid:evaluation_id>/rerun", views.evaluation_rerun_view, name="rerun"),
    path("evaluations/<uuid:evaluation_id>/results.csv", views.evaluation_csv_view, name="csv"),
]
