from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from integrations import urls as integrations_urls
from runners import urls as runners_urls


class FaviconRedirect(RedirectView):
    """/favicon.ico to the static favicon, resolved per request: the production storage's manifest (hashed names)
    is read only once collectstatic has run, so not at import."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.svg")


urlpatterns = [
    path("", RedirectView.as_view(url="/playground", permanent=False)),
    # Browsers ask for /favicon.ico on pages without <link rel="icon"> (the admin, the API's JSON).
    path("favicon.ico", FaviconRedirect.as_view()),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v2/", include("api.urls")),
    # The runners' connection Test pages sit under Settings > Integrations, in its namespace.
    path("", include((integrations_urls.urlpatterns + runners_urls.urlpatterns, integrations_urls.app_name))),
    path("", include("playground.urls")),
    path("", include("evaluations.urls")),
]
