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
    412: "`If-Match` does not match the integration's current `ETag` (it changed since it was read).",
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


SEED_DOCUMENT = {
    "authentication_type": "api_key",
    "api_key_header": "x-portkey-api-key",
    "api_key_value": "YOUR_API_KEY_VALUE",
    "model_properties": [
        {
            "name": "gpt-5.2",
            "alias": "GPT 5.2",
            "supported_parameters": ["max_tokens", "n", "reasoning_effort", "stop_sequences", "temperature"],
        },
        {"name": "gpt-5.4", "alias": "GPT 5.4", "based_on": "gpt-5.4"},
        {"name": "claude-opus-4-6", "alias": "Opus 4.6", "based_on": "Claude Opus 4.6"},
    ],
    "endpoint": "https://api.portkey.ai/v1",
}

DOCUMENT_EXAMPLES = [
    OpenApiExample("API key", value=SEED_DOCUMENT, request_only=True),
    OpenApiExample(
        "OAuth2 client credentials",
        value={
            "authentication_type": "oauth2",
            "oauth2_token_url": "https://auth.provider.example/oauth2/token",
            "token": '{"client_id": "YOUR_CLIENT_ID", "client_secret": "YOUR_CLIENT_SECRET"}',
            "authentication_scope": "inference",
            "model_properties": [{"name": "provider-model-v2", "alias": "Provider Model v2"}],
            "endpoint": "https://api.provider.example/v1",
        },
        request_only=True,
    ),
    OpenApiExample(
        "No authentication",
        value={
            "authentication_type": "none",
            "model_properties": [{"name": "internal-model-v1", "alias": "Internal Model"}],
            "endpoint": "https://internal-gateway.example/v1",
            "headers": {"X-Team": "research"},
        },
        request_only=True,
    ),
]

RUN_EXAMPLES = [
    OpenApiExample(
        "A question",
        value={
            "integration": "custom",
            "model": "GPT 5.2",
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What is Portkey?"},
            ],
            "parameters": {"temperature": 0.7, "max_tokens": 256},
        },
        request_only=True,
    )
]


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
