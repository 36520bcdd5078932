"""OpenAPI pieces: the API key security schemes and the error responses every operation documents."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from api.serializers import ErrorSerializer, ValidationErrorSerializer


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "BearerAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Galileo-API-Key",
                "description": "An API key (`python manage.py create_user ... --api-key`).",
            },
            {"type": "http", "scheme": "bearer", "description": "The same API key as `Authorization: Bearer KEY`."},
        ]

    def get_security_requirement(self, auto_schema):
        # Either header will do (a list means "one of").
        return [{name: []} for name in self.name]


_MESSAGES = {
    401: "No API key or session, or the API key is unknown or revoked.",
    403: "Not allowed: no organisation, not an admin or the creator, or a missing CSRF token (session).",
    404: "No such object in your organisation.",
    405: "Method not allowed here.",
    413: "The body is over the size limit.",
    415: "The body is not `application/json`.",
}

_VALIDATION_EXAMPLE = OpenApiExample(
    "Validation error",
    value={
        "detail": [
            {
                "loc": ["body", "model_properties", 1, "based_on"],
                "msg": '"gpt-9" is not a built-in model alias.',
                "type": "unknown_builtin_model",
            }
        ]
    },
    response_only=True,
    status_codes=["422"],
)


def error_responses(*codes: int) -> dict:
    """OpenAPI responses for these error statuses (422 has the list shape, the others a sentence)."""
    responses = {}
    for code in codes:
        if code == 422:
            responses[code] = OpenApiResponse(
                ValidationErrorSerializer,
                description="Invalid request: each problem with its `loc` (`body`, `query` or `path`, then the path).",
                examples=[_VALIDATION_EXAMPLE],
            )
        else:
            responses[code] = OpenApiResponse(ErrorSerializer, description=_MESSAGES[code])
    return responses
