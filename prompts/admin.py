from django.contrib import admin

from prompts.models import Prompt, PromptLabel, PromptVersion


class ReadOnlyVersionInline(admin.TabularInline):
    """Versions are immutable: the admin shows them and never edits or adds one."""

    model = PromptVersion
    extra = 0
    can_delete = False
    fields = ("number", "model_alias", "messages", "parameters", "tools", "response_format", "note", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "created_by", "updated_at")
    list_filter = ("organization",)
    search_fields = ("name",)
    readonly_fields = ("id", "organization", "created_by", "created_at", "updated_at")
    inlines = [ReadOnlyVersionInline]


@admin.register(PromptLabel)
class PromptLabelAdmin(admin.ModelAdmin):
    list_display = ("name", "prompt", "version", "updated_at")
    readonly_fields = ("prompt", "name", "version", "updated_at")

    def has_add_permission(self, request):
        return False
