"""Integrations over HTTP: create-or-update from the document, reads without secrets, the placeholder, 422s."""

import json
import re

import pytest

from integrations.models import Integration
from tests.factories import api_key_document

MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SECRETS = ("sk-test-ABC123", "client-secret-XYZ", "header-secret-42")


def oauth2_document(**overrides):
    document = {
        "authentication_type": "oauth2",
        "oauth2_token_url": "https://auth.example/oauth2/token",
        "token": json.dumps({"client_id": "client-1", "client_secret": "client-secret-XYZ"}),
        "authentication_scope": "inference",
        "model_properties": [{"name": "provider-model-v2", "alias": "Provider Model v2"}],
        "endpoint": "https://api.provider.example/v1",
        "headers": {"X-Tenant": "header-secret-42"},
    }
    document.update(overrides)
    return document


def put(client, name, document):
    return client.put(f"/api/v2/integrations/custom/{name}", document, format="json")


def assert_no_secret(response):
    for secret in SECRETS:
        assert secret not in response.content.decode(), f"{secret} leaked"


def test_put_creates_and_answers_with_the_read(admin_client, admin_user):
    response = put(admin_client, "portkey", api_key_document())
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "portkey"
    assert body["provider"] == "custom"
    assert body["created_by"] == admin_user.username
    assert MICROSECONDS.match(body["created_at"]) and MICROSECONDS.match(body["updated_at"])
    assert body["document"]["api_key_value"] == "********"
    assert body["document"]["api_key_header"] == "x-portkey-api-key"
    assert [m["alias"] for m in body["models"]] == ["GPT 5.2", "GPT 5.4", "Opus 4.6"]
    assert body["models"][0]["is_default"] is True
    assert "temperature" in body["models"][0]["supported_parameters"]
    assert_no_secret(response)


def test_put_on_the_bare_path_names_the_integration_custom(admin_client, org):
    assert admin_client.put("/api/v2/integrations/custom", api_key_document(), format="json").status_code == 200
    assert Integration.objects.get(organization=org).name == "custom"
    assert admin_client.get("/api/v2/integrations/custom").json()["name"] == "custom"


def test_put_again_updates_in_place_and_keeps_the_creator(creator_client, admin_client, creator, integration):
    before = admin_client.get("/api/v2/integrations/custom/custom").json()
    document = api_key_document(endpoint="https://other.example/v1")
    document["model_properties"] = document["model_properties"][:1]
    response = put(admin_client, "custom", document)
    assert response.status_code == 200
    after = response.json()
    assert after["id"] == before["id"]
    assert after["created_by"] == creator.username
    assert after["updated_at"] > before["updated_at"]
    assert after["document"]["endpoint"] == "https://other.example/v1"
    assert [m["alias"] for m in after["models"]] == ["GPT 5.2"]


@pytest.mark.parametrize(
    "document",
    [api_key_document(headers={"X-Tenant": "header-secret-42"}), oauth2_document()],
    ids=["api_key", "oauth2"],
)
def test_placeholder_round_trip_keeps_every_secret(admin_client, document):
    assert put(admin_client, "roundtrip", document).status_code == 200
    read = admin_client.get("/api/v2/integrations/custom/roundtrip")
    assert_no_secret(read)
    read_back = read.json()["document"]

    response = put(admin_client, "roundtrip", read_back)  # what a script would do: GET, edit, PUT
    assert response.status_code == 200, response.json()
    definition = admin_client.get("/api/v2/integrations/custom/roundtrip/definition").json()
    for key in ("api_key_value", "token"):
        if key in document:
            assert definition[key] == document[key]
    assert definition["headers"] == document["headers"]


def test_reads_never_contain_a_secret(admin_client, member_client):
    put(admin_client, "a", api_key_document(headers={"X-Tenant": "header-secret-42"}))
    put(admin_client, "b", oauth2_document())
    for client in (admin_client, member_client):
        for url in (
            "/api/v2/integrations",
            "/api/v2/llm_integrations",
            "/api/v2/integrations/custom/a",
            "/api/v2/integrations/custom/b",
        ):
            response = client.get(url)
            assert response.status_code == 200
            assert_no_secret(response)
    document = admin_client.get("/api/v2/integrations/custom/b").json()["document"]
    assert document["token"] == "********"
    assert document["headers"] == {"X-Tenant": "********"}


def test_definition_shows_the_real_secrets_to_admins_and_the_creator_only(
    admin_client, creator_client, member_client, integration
):
    for client in (admin_client, creator_client):
        response = client.get("/api/v2/integrations/custom/custom/definition")
        assert response.status_code == 200
        assert response.json()["api_key_value"] == "sk-test-ABC123"
        assert response["Cache-Control"] == "no-store"
    response = member_client.get("/api/v2/integrations/custom/custom/definition")
    assert response.status_code == 403
    assert_no_secret(response)


def test_the_definition_can_be_put_back_as_it_is(admin_client, integration):
    definition = admin_client.get("/api/v2/integrations/custom/custom/definition").json()
    assert put(admin_client, "custom", definition).status_code == 200
    assert admin_client.get("/api/v2/integrations/custom/custom/definition").json() == definition


def test_a_placeholder_with_nothing_stored_is_a_422(admin_client):
    response = put(admin_client, "fresh", api_key_document(api_key_value="********"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "api_key_value"]
    assert response.json()["detail"][0]["type"] == "placeholder_without_secret"


@pytest.mark.parametrize("key", ["api_key_value", "api_key_header"])
def test_omitting_a_secret_the_auth_type_needs_is_a_422(admin_client, integration, key):
    document = api_key_document()
    del document[key]
    response = put(admin_client, "custom", document)
    assert response.status_code == 422
    assert {"loc": ["body", key], "msg": 'Required when authentication_type is "api_key".', "type": "missing"} in (
        response.json()["detail"]
    )
    definition = admin_client.get("/api/v2/integrations/custom/custom/definition").json()
    assert definition["api_key_value"] == "sk-test-ABC123"  # nothing written


def test_an_oauth2_document_without_its_token_is_a_422(admin_client):
    document = oauth2_document()
    del document["token"]
    response = put(admin_client, "o", document)
    assert response.status_code == 422
    assert [p["loc"] for p in response.json()["detail"]] == [["body", "token"]]


INVALID_DOCUMENTS = {
    "unknown based_on": (
        lambda d: d["model_properties"][1].update(based_on="gpt-9"),
        ["body", "model_properties", 1, "based_on"],
        "unknown_builtin_model",
    ),
    "typo in a key": (lambda d: d.update(endpont=d.pop("endpoint")), ["body", "endpont"], "extra_forbidden"),
    "unknown parameter": (
        lambda d: d["model_properties"][0]["supported_parameters"].insert(1, "temprature"),
        ["body", "model_properties", 0, "supported_parameters", 1],
        "unknown_parameter",
    ),
    "based_on and supported_parameters": (
        lambda d: d["model_properties"][0].update(based_on="gpt-5.4"),
        ["body", "model_properties", 0, "based_on"],
        "mutually_exclusive",
    ),
    "model_properties not a list": (
        lambda d: d.update(model_properties="gpt"),
        ["body", "model_properties"],
        "list_type",
    ),
    "endpoint not a URL": (lambda d: d.update(endpoint="ftp://x"), ["body", "endpoint"], "value_error"),
    "endpoint a number": (lambda d: d.update(endpoint=42), ["body", "endpoint"], "string_type"),
    "bad header name": (lambda d: d.update(headers={"Bad Header": "v"}), ["body", "headers", "Bad Header"], None),
    "default_model not a name": (lambda d: d.update(default_model="nope"), ["body", "default_model"], None),
    "no models": (lambda d: d.update(model_properties=[]), ["body", "model_properties"], "too_short"),
    "wrong authentication_type": (
        lambda d: d.update(authentication_type="basic"),
        ["body", "authentication_type"],
        "literal_error",
    ),
    "NUL in a model name": (
        lambda d: d["model_properties"][2].update(name="a\x00b"),
        ["body", "model_properties", 2, "name"],
        "string_unicode",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_DOCUMENTS))
def test_an_invalid_document_is_a_422_with_the_exact_loc(admin_client, case):
    mutate, loc, kind = INVALID_DOCUMENTS[case]
    document = api_key_document()
    mutate(document)
    response = put(admin_client, "broken", document)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert all(set(problem) == {"loc", "msg", "type"} and problem["msg"] for problem in detail)
    matching = [problem for problem in detail if problem["loc"] == loc]
    assert matching, detail
    if kind:
        assert matching[0]["type"] == kind
    assert not Integration.objects.filter(name="broken").exists()


def test_every_problem_is_reported_at_once(admin_client):
    document = api_key_document(endpoint="nope")
    document["model_properties"][1]["based_on"] = "gpt-9"
    del document["api_key_value"]
    locs = [p["loc"] for p in put(admin_client, "many", document).json()["detail"]]
    assert ["body", "endpoint"] in locs
    assert ["body", "api_key_value"] in locs
    assert ["body", "model_properties", 1, "based_on"] in locs


def test_an_alias_used_by_another_integration_is_a_422(admin_client, integration):
    response = put(admin_client, "second", api_key_document())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "model_properties", 0, "alias"]
    assert response.json()["detail"][0]["type"] == "duplicate_alias"


@pytest.mark.parametrize("body", [[], "text", 5, None], ids=["list", "string", "number", "null"])
def test_a_body_that_is_not_an_object_is_a_422(admin_client, body):
    response = admin_client.put("/api/v2/integrations/custom/x", json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_an_empty_body_is_a_422_naming_the_required_properties(admin_client):
    response = admin_client.put("/api/v2/integrations/custom/x", b"", content_type="application/json")
    assert response.status_code == 422
    assert {tuple(p["loc"]) for p in response.json()["detail"]} >= {("body", "model_properties"), ("body", "endpoint")}


def test_a_name_too_long_is_a_422_on_the_path(admin_client):
    response = put(admin_client, "n" * 101, api_key_document())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "name"]


@pytest.mark.parametrize("name", ["a.b", "caf\u00e9", "a b", "a%0A", "a%00"])
def test_a_name_that_is_not_a_slug_is_a_422_to_put_and_a_404_to_read(admin_client, name):
    response = put(admin_client, name, api_key_document())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "name"]
    assert admin_client.get(f"/api/v2/integrations/custom/{name}").status_code == 404
    assert admin_client.get(f"/api/v2/integrations/custom/{name}/definition").status_code == 404


def test_delete_removes_the_integration_and_frees_its_aliases(admin_client, integration):
    assert admin_client.delete("/api/v2/integrations/custom/custom").status_code == 204
    assert admin_client.get("/api/v2/integrations/custom/custom").status_code == 404
    assert admin_client.delete("/api/v2/integrations/custom/custom").status_code == 404
    assert put(admin_client, "again", api_key_document()).status_code == 200


def test_llm_integrations_lists_models_with_parameters_and_the_default(admin_client, integration):
    put(admin_client, "second", api_key_document(model_properties=[{"name": "m1"}, {"name": "m2"}], default_model="m2"))
    body = admin_client.get("/api/v2/llm_integrations").json()
    assert [i["name"] for i in body] == ["custom", "second"]
    second = body[1]
    assert second["default_model"] == "m2"
    assert [(m["alias"], m["is_default"]) for m in second["models"]] == [("m1", False), ("m2", True)]
    assert second["models"][0]["supported_parameters"] == [
        "frequency_penalty",
        "max_tokens",
        "presence_penalty",
        "stop_sequences",
        "temperature",
        "top_p",
    ]
    opus = body[0]["models"][2]
    assert opus["based_on"] == "Claude Opus 4.6"


def test_the_list_has_the_contract_fields(member_client, integration, creator):
    (item,) = member_client.get("/api/v2/integrations").json()
    assert set(item) == {"id", "name", "provider", "created_at", "updated_at", "created_by", "permissions"}
    assert item["created_by"] == creator.username


def test_created_by_is_null_once_the_creator_is_gone(admin_client, integration, creator):
    creator.delete()
    assert admin_client.get("/api/v2/integrations").json()[0]["created_by"] is None


def test_an_api_key_header_longer_than_its_column_is_a_422(admin_client):
    response = put(admin_client, "long", api_key_document(api_key_header="a" * 300))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "api_key_header"]
