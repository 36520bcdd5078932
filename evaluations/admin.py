from django.contrib import admin

from evaluations.models import Dataset, Evaluation, Metric


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "organization", "row_count", "source_format", "created_by", "created_at")
    list_filter = ("organization",)
    readonly_fields = ("lineage", "version", "columns", "row_count", "source_format", "created_at")


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    """Read-only: a metric version never changes (scores name it); edits make a new version from the metrics page or
    the API (evaluations.services.metrics.metric_update)."""

    list_display = ("name", "version", "organization", "judge_model", "judges", "replaced_at", "created_at")
    list_filter = ("organization",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    """Read-only: evaluations are started from their page or the API, which enqueue the runs."""

    list_display = ("name", "organization", "dataset", "total_runs", "created_by", "created_at", "finished_at")
    list_filter = ("organization",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
