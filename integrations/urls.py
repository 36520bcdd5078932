from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("settings/integrations", views.integration_settings, name="settings"),
    path("settings/integrations/custom/new", views.integration_create, name="create"),
    path("settings/integrations/custom/<slug:name>/edit", views.integration_edit, name="edit"),
    path("settings/integrations/custom/<slug:name>/delete", views.integration_delete_view, name="delete"),
    path(
        "settings/integrations/custom/<slug:name>/parameter-rules/<uuid:rule_id>/clear",
        views.parameter_rule_clear_view,
        name="rule-clear",
    ),
    path(
        "settings/integrations/custom/<slug:name>/parameter-rules/<uuid:rule_id>/pin",
        views.parameter_rule_pin_view,
        name="rule-pin",
    ),
    path(
        "settings/integrations/custom/<slug:name>/oauth2-method/pin",
        views.integration_oauth2_method_pin_view,
        name="pin-oauth2-method",
    ),
]
