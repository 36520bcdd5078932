from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from api.views.integrations import (
    DefaultCustomIntegrationApi,
    IntegrationDefinitionApi,
    IntegrationListApi,
    LlmIntegrationListApi,
    NamedCustomIntegrationApi,
)
from api.views.runs import RunDetailApi, RunsApi


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
    path("llm_integrations", LlmIntegrationListApi.as_view(), name="api-llm-integrations"),
    path("runs", RunsApi.as_view(), name="api-runs"),
    path("runs/<uuid:run_id>", RunDetailApi.as_view(), name="api-run"),
    path("", include("evaluations.api_urls")),
    path("schema", SpectacularJSONAPIView.as_view(**public), name="api-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api-schema", **public), name="api-docs"),
    re_path(r"^[\s\S]*$", NotFoundApi.as_view()),  # any path, also one with a newline
]
