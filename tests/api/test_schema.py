"""The OpenAPI schema describes the real requests and responses; the docs page works without the internet."""

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

OPERATIONS = {
    ("/api/v2/integrations", "get"): {"200", "401", "403"},
    ("/api/v2/integrations/custom", "put"): {"200", "401", "403", "409", "412", "413", "415", "422"},
    ("/api/v2/integrations/custom/{name}", "put"): {"200", "401", "403", "409", "412", "413", "415", "422"},
    ("/api/v2/integrations/custom/{name}", "get"): {"200", "401", "403", "404"},
    ("/api/v2/integrations/custom/{name}", "delete"): {"204", "401", "403", "404", "409", "422"},
    ("/api/v2/integrations/custom/{name}/definition", "get"): {"200", "401", "403", "404"},
    ("/api/v2/llm_integrations", "get"): {"200", "401", "403"},
    ("/api/v2/runs", "post"): {"202", "401", "403", "413", "415", "422"},
    ("/api/v2/runs", "get"): {"200", "401", "403", "422"},
    ("/api/v2/runs/{run_id}", "get"): {"200", "401", "403", "404"},
    ("/api/v2/prompts", "get"): {"200", "401", "403"},
    ("/api/v2/prompts", "post"): {"201", "401", "403", "413", "415", "422"},
    ("/api/v2/prompts/{prompt_id}", "get"): {"200", "401", "403", "404"},
    ("/api/v2/prompts/{prompt_id}", "delete"): {"204", "401", "403", "404", "409"},
    ("/api/v2/prompts/{prompt_id}/versions", "get"): {"200", "401", "403", "404"},
    ("/api/v2/prompts/{prompt_id}/versions", "post"): {"201", "401", "403", "404", "413", "415", "422"},
    ("/api/v2/prompts/{prompt_id}/versions/{number}", "get"): {"200", "401", "403", "404"},
    ("/api/v2/prompts/{prompt_id}/labels/{label}", "get"): {"200", "401", "403", "404"},
    ("/api/v2/prompts/{prompt_id}/labels/{label}", "put"): {"200", "401", "403", "404", "413", "415", "422"},
    ("/api/v2/prompts/{prompt_id}/labels/{label}", "delete"): {"204", "401", "403", "404"},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v2/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_the_schema_is_public_openapi_3_json(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["version"] == "2.0.0"


@pytest.mark.parametrize(("path", "method"), list(OPERATIONS))
def test_each_operation_documents_its_statuses(schema, path, method):
    operation = schema["paths"][path][method]
    assert set(operation["responses"]) == OPERATIONS[(path, method)]
    if "422" in operation["responses"]:
        assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ValidationError"
        }
    assert {"ApiKeyHeader": []} in operation["security"]
    assert {"BearerAuth": []} in operation["security"]


def test_the_security_schemes_are_the_two_api_key_headers(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Galileo-API-Key",
        "description": schemes["ApiKeyHeader"]["description"],
    }
    assert schemes["BearerAuth"]["scheme"] == "bearer"


def test_the_document_schema_is_the_validators_model(schema):
    document = schema["components"]["schemas"]["IntegrationDocument"]
    assert document["additionalProperties"] is False
    assert set(document["required"]) == {"model_properties", "endpoint"}
    assert "custom_llm_config" in document["properties"]
    put = schema["paths"]["/api/v2/integrations/custom/{name}"]["put"]
    body = put["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/IntegrationDocument"}
    assert body["examples"]


def test_the_422_shape_is_described(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"loc", "msg", "type"}
    assert problem["properties"]["loc"]["items"] == {"oneOf": [{"type": "string"}, {"type": "integer"}]}


def test_the_run_request_lists_messages_and_known_parameters(schema):
    run = schema["components"]["schemas"]["RunCreateInput"]
    assert set(run["required"]) == {"integration", "model", "messages"}
    parameters = run["properties"]["parameters"]["anyOf"][0]
    assert parameters["additionalProperties"] is False
    assert "temperature" in parameters["properties"]
    assert run["properties"]["messages"]["items"]["properties"]["role"]["enum"][0] == "system"


def test_the_run_read_has_the_contract_fields(schema):
    run = schema["components"]["schemas"]["RunOutput"]
    assert {
        "id",
        "status",
        "output",
        "usage",
        "latency_ms",
        "error",
        "dropped_parameters",
        "request",
        "created_at",
        "started_at",
        "finished_at",
    } <= set(run["properties"])
    assert run["properties"]["created_at"]["format"] == "date-time"


@pytest.mark.django_db
def test_the_docs_page_loads_its_ui_from_our_own_static_files():
    response = APIClient().get("/api/v2/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    # The start-up script (which names the schema) is served from a URL: the page has no inline script (CSP).
    assert '<script src="/api/v2/docs?script=">' in html
    assert "/api/v2/schema" in APIClient().get("/api/v2/docs?script=").content.decode()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
