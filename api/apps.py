from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self):
        # Registers the OpenAPI extension that describes ApiKeyAuthentication.
        import api.schema  # noqa: F401
