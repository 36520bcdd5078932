from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("settings/integrations", views.integration_settings, name="settings"),
    path("settings/integrations/custom/new", views.integration_create, name="create"),
    path("settings/integrations/custom/<slug:name>/edit", views.integration_edit, name="edit"),
    path("settings/integrations/custom/<slug:name>/delete", views.integration_delete_view, name="delete"),
    path("settings/integrations/custom/<slug:name>/test", views.integration_test, name="test"),
    path(
        "settings/integrations/custom/<slug:name>/tests/<uuid:job_id>",
        views.integration_test_results,
        name="test-results",
    ),
]
