"""The connection Test's pages. They live under Settings > Integrations and keep their names in the
`integrations` namespace (integrations_site/urls.py includes them with integrations.urls)."""

from django.urls import path

from runners import views

urlpatterns = [
    path("settings/integrations/custom/<slug:name>/test", views.integration_test, name="test"),
    path(
        "settings/integrations/custom/<slug:name>/tests/<uuid:job_id>",
        views.integration_test_results,
        name="test-results",
    ),
]
