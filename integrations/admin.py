from django.contrib import admin

from integrations.forms import IntegrationDocumentForm
from integrations.models import Integration, ModelProperty, ParameterRule


class ModelPropertyInline(admin.TabularInline):
    model = ModelProperty
    fields = ["position", "name", "alias", "based_on", "supported_parameters", "parameter_names"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class ParameterRuleInline(admin.TabularInline):
    """The rules the runners learned (cleared or pinned on Settings > Integrations and in the API)."""

    model = ParameterRule
    fields = ["model_name", "parameter", "action", "to", "reason", "learned_at", "learned_from_run"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    """Add and change an integration by pasting its JSON document (secrets never shown)."""

    form = IntegrationDocumentForm
    list_display = ["name", "organization", "authentication_type", "endpoint", "created_by", "updated_at"]
    list_filter = ["organization", "authentication_type"]
    search_fields = ["name", "endpoint", "models__alias"]
    inlines = [ModelPropertyInline, ParameterRuleInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class RequestForm(form_class):
            def __init__(self, *args, **kw):
                kw["user"] = user
                super().__init__(*args, **kw)

        return RequestForm

    def get_inline_instances(self, request, obj=None):
        # The rows are rewritten by the upsert; a posted inline formset would
        # point at rows that no longer exist.
        if request.method == "POST":
            return []
        return super().get_inline_instances(request, obj)

    def get_fields(self, request, obj=None):
        return ["organization", "name", "document"]

    def save_model(self, request, obj, form, change):
        # integration_upsert already saved it while validating the form.
        pass

    def save_related(self, request, form, formsets, change):
        pass
