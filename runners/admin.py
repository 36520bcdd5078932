from django.contrib import admin

from runners.models import Job, Run


class ReadOnlyAdmin(admin.ModelAdmin):
    """Runs and jobs are written by the runners only; the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "integration_name", "model_alias", "status", "error_type", "created_at")
    list_filter = ("status", "error_type", "stream")
    search_fields = ("id", "integration_name", "model_alias", "model_name")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "kind", "integration", "created_at")
    list_filter = ("kind",)
    list_select_related = ("organization", "integration")
