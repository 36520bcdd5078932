"""Issue 13 items 9, 10 and 13 at save: endpoints as providers publish them, header values judged as the HTTP client
judges them, and the OAuth2 token request's extensions, refused with their paths through the API and the Settings
form, with nothing written and no secret in the message."""

import copy
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.problems import Invalid
from integrations.document import parse_document
from integrations.models import Integration
from integrations.services import integration_document
from organizations.services import api_key_issue
from tests.factories import api_key_document, make_integration

pytestmark = pytest.mark.django_db

SECRET = "sk-live-Zq81xTT4vW"
OAUTH2 = {
    "authentication_type": "oauth2",
    "oauth2_token_url": "https://login.example/oauth2/token",
    "token": json.dumps({"client_id": "client-1", "client_secret": "client-secret-XYZ"}),
    "model_properties": [{"name": "provider-model-v2"}],
    "endpoint": "https://api.provider.example/v1",
}


def oauth2(**overrides) -> dict:
    document = copy.deepcopy(OAUTH2)
    document.update(overrides)
    return document


def problems(document) -> list[tuple[str, str, str]]:
    with pytest.raises(Invalid) as caught:
        parse_document(document)
    return [(error.path, error.type, error.message) for error in caught.value.errors]


# -- item 9: endpoints -----------------------------------------------------------------------------------------------

ACCEPTED_ENDPOINTS = [
    "https://r.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21",
    "https://r.openai.azure.com/openai/deployments/gpt-4o/?api-version=2024-10-21",
    "https://r.openai.azure.com/openai/v1/",
    "https://r.services.ai.azure.com/models?api-version=2024-05-01-preview",
    "https://api.example/v1/",
    "https://api.example/v1?tenant=acme&region=eu",
]


@pytest.mark.parametrize("endpoint", ACCEPTED_ENDPOINTS)
def test_endpoints_as_providers_publish_them_are_accepted(endpoint):
    assert parse_document(api_key_document(endpoint=endpoint)).endpoint == endpoint


@pytest.mark.parametrize(
    "endpoint, suggestion",
    [
        ("https://api.example/v1/chat/completions", "https://api.example/v1"),
        ("https://api.example/v1/chat/completions/", "https://api.example/v1"),
        ("https://api.example/V1/Chat/Completions", "https://api.example/V1"),
        (
            "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21",
            "https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21",
        ),
        ("https://api.example/chat/completions", "https://api.example/"),
    ],
)
def test_an_endpoint_that_already_ends_in_chat_completions_is_refused_with_the_base_url_to_use(endpoint, suggestion):
    [(path, kind, message)] = problems(api_key_document(endpoint=endpoint))
    assert (path, kind) == ("endpoint", "url_completions_path")
    assert message.endswith(f"Remove /chat/completions from the end: {suggestion}")


@pytest.mark.parametrize("name", ["api-key", "API-KEY", "key", "Key", "token", "sig", "api_key", "access_token"])
def test_a_credential_in_the_endpoints_query_string_is_refused_without_echoing_it(name):
    endpoint = f"https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21&{name}={SECRET}"
    [(path, kind, message)] = problems(api_key_document(endpoint=endpoint))
    assert (path, kind) == ("endpoint", "url_credential")
    assert f"carries a credential ({name})" in message
    assert 'api_key_header "api-key"' in message and "send it as a header instead" in message
    assert SECRET not in message


def test_a_credential_in_the_token_urls_query_string_is_refused_too():
    [(path, kind, message)] = problems(oauth2(oauth2_token_url=f"https://login.example/token?sig={SECRET}"))
    assert (path, kind) == ("oauth2_token_url", "url_credential")
    assert SECRET not in message


def test_query_names_that_merely_contain_key_or_token_are_not_credentials():
    document = api_key_document(endpoint="https://api.example/v1?monkey=1&tokenizer=bpe&keyword=x")
    assert parse_document(document).endpoint.endswith("keyword=x")


def test_an_azure_deployment_url_without_api_version_is_refused_with_an_example():
    [(path, kind, message)] = problems(api_key_document(endpoint="https://r.openai.azure.com/openai/deployments/d"))
    assert (path, kind) == ("endpoint", "url_api_version")
    assert message.endswith("such as https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21")


def test_a_fragment_is_refused():
    [(path, kind, _)] = problems(api_key_document(endpoint="https://api.example/v1#section"))
    assert (path, kind) == ("endpoint", "url_fragment")


# -- item 10: header values ------------------------------------------------------------------------------------------

# The first two are the commonest in peers' trackers: `Bearer ` with an empty variable after it (httpx
# LocalProtocolError "Illegal header value b'Bearer '", reported as a connection error and retried), and a key read
# from a file or a mounted secret with its newline.
BAD_VALUES = {
    "empty bearer credential": ("Bearer ", "ends with a space or tab"),
    "key file newline": (f"{SECRET}\n", "Character 19 is a line break"),
    "trailing space": (f"{SECRET} ", "ends with a space or tab"),
    "leading tab": (f"\t{SECRET}", "starts with a space or tab"),
    "line feed": (f"{SECRET}\nX-Injected: 1", "Character 19 is a line break"),
    "carriage return": (f"Bearer {SECRET}\r", "Character 26 is a line break"),
    "typographic quote": (f"Bearer \u2019{SECRET}", "Character 8 is not ASCII"),
    "non-breaking space": (f"Bearer\u00a0{SECRET}", "Character 7 is not ASCII"),
    "control character": (f"{SECRET}\x07", "Character 19 is a control character"),
    "DEL": (f"{SECRET}\x7fz", "Character 19 is a control character"),
    "form feed": (f"ab\x0c{SECRET}", "Character 3 is a control character"),
}


@pytest.mark.parametrize("case", BAD_VALUES, ids=list(BAD_VALUES))
def test_an_api_key_the_http_client_would_refuse_is_refused_at_save_without_echoing_it(case):
    value, expected = BAD_VALUES[case]
    [(path, kind, message)] = problems(api_key_document(api_key_value=value))
    assert (path, kind) == ("api_key_value", "header_value")
    assert expected in message
    assert SECRET not in message and value not in message


@pytest.mark.parametrize("case", BAD_VALUES, ids=list(BAD_VALUES))
def test_a_static_header_value_the_http_client_would_refuse_is_refused_at_its_path(case):
    value, expected = BAD_VALUES[case]
    found = problems(api_key_document(headers={"X-Ok": "fine value\twith tab", "X-Tenant": value}))
    assert found == [("headers.X-Tenant", "header_value", found[0][2])]
    assert expected in found[0][2] and SECRET not in found[0][2]


def test_values_http_allows_are_accepted_unchanged():
    values = {"X-Empty": "", "X-Words": "a  b\tc", "X-Symbols": "!#$%&'*+-.^_`|~\"(),/:;<=>?@[\\]{}"}
    parsed = parse_document(api_key_document(api_key_value="Bearer abc==", headers=values))
    assert parsed.headers == values and parsed.api_key_value == "Bearer abc=="


# -- item 13: the token request's extensions -------------------------------------------------------------------------


def test_oauth2_token_auth_method_and_params_are_read_back_as_saved(org, admin_user):
    document = oauth2(
        oauth2_token_auth_method="client_secret_basic",
        oauth2_token_params={"audience": "https://api.provider.example", "resource": "api://inference"},
    )
    integration = make_integration(organization=org, user=admin_user, name="okta", document=document)
    read = integration_document(integration=integration)
    assert read["oauth2_token_auth_method"] == "client_secret_basic"
    assert read["oauth2_token_params"] == {"audience": "https://api.provider.example", "resource": "api://inference"}
    assert "oauth2_token_auth_method" not in integration_document(
        integration=make_integration(
            organization=org, user=admin_user, name="plain", document=oauth2(model_properties=[{"name": "other"}])
        )
    )


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"oauth2_token_auth_method": "private_key_jwt"}, [("oauth2_token_auth_method", "literal_error")]),
        ({"oauth2_token_params": {"audience": 5}}, [("oauth2_token_params.audience", "string_type")]),
        ({"oauth2_token_params": ["audience"]}, [("oauth2_token_params", "dict_type")]),
        (
            {"oauth2_token_params": {"grant_type": "password"}},
            [("oauth2_token_params.grant_type", "reserved_parameter")],
        ),
        (
            {"oauth2_token_params": {"Client_Secret": "x"}},
            [("oauth2_token_params.Client_Secret", "reserved_parameter")],
        ),
        ({"oauth2_token_params": {"client_id": "x"}}, [("oauth2_token_params.client_id", "reserved_parameter")]),
        (
            {"oauth2_token_params": {"scope": "admin", "": "x"}},
            [
                ("oauth2_token_params.scope", "reserved_parameter"),
                ("oauth2_token_params.", "value_error"),
            ],
        ),
        ({"oauth2_token_params": {f"f{i}": "x" for i in range(21)}}, [("oauth2_token_params", "too_long")]),
    ],
)
def test_bad_token_request_extensions_are_refused_with_their_paths(overrides, expected):
    assert [(path, kind) for path, kind, _ in problems(oauth2(**overrides))] == expected


def test_a_reserved_token_field_says_what_to_use_instead():
    [(_, _, message)] = problems(oauth2(oauth2_token_params={"scope": "admin"}))
    assert message == '"scope" is set by the token request itself (use authentication_scope); remove it.'


def test_the_token_request_extensions_are_refused_with_another_authentication_type():
    document = api_key_document(oauth2_token_auth_method="client_secret_post", oauth2_token_params={"audience": "a"})
    assert [(path, kind) for path, kind, _ in problems(document)] == [
        ("oauth2_token_auth_method", "not_applicable"),
        ("oauth2_token_params", "not_applicable"),
    ]


# -- the same refusals through the API and the Settings form, nothing written ----------------------------------------


@pytest.fixture
def stored(org, admin_user):
    return make_integration(organization=org, user=admin_user, name="custom", document=api_key_document())


REFUSED = {
    "endpoint with /chat/completions": (
        api_key_document(endpoint="https://api.example/v1/chat/completions"),
        ["endpoint"],
    ),
    "credential in the query": (api_key_document(endpoint=f"https://api.example/v1?key={SECRET}"), ["endpoint"]),
    "api key with a trailing space": (api_key_document(api_key_value=f"{SECRET} "), ["api_key_value"]),
    "header with a line break": (api_key_document(headers={"X-Tenant": f"a\n{SECRET}"}), ["headers", "X-Tenant"]),
    "reserved token field": (
        oauth2(oauth2_token_params={"client_secret": SECRET}),
        ["oauth2_token_params", "client_secret"],
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_the_api_answers_422_with_the_path_and_writes_nothing(stored, admin_user, case):
    document, loc = REFUSED[case]
    client = APIClient()
    client.credentials(HTTP_GALILEO_API_KEY=api_key_issue(user=admin_user).raw_key)
    before = Integration.objects.values().get(pk=stored.pk)
    response = client.put("/api/v2/integrations/custom/custom", document, format="json")
    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["body", *loc]]
    assert SECRET not in response.content.decode()
    assert Integration.objects.values().get(pk=stored.pk) == before


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_the_settings_form_shows_the_problem_at_its_path_and_writes_nothing(stored, admin_user, case):
    document, loc = REFUSED[case]
    client = Client()
    client.force_login(admin_user)
    before = Integration.objects.values().get(pk=stored.pk)
    response = client.post("/settings/integrations/custom/custom/edit", {"document": json.dumps(document)})
    page = response.content.decode()
    assert response.status_code == 422
    path = loc[0] + "".join(f".{part}" for part in loc[1:])
    assert f'data-path="{path}"' in page
    assert Integration.objects.values().get(pk=stored.pk) == before
