"""Bad requests of every kind get a clear 4xx with a JSON `detail`, never a 500."""

import json

import pytest

from tests.factories import api_key_document

DOCUMENT_URL = "/api/v2/integrations/custom/x"
RUNS_URL = "/api/v2/runs"


def raw(client, method, url, body: bytes, content_type="application/json", **extra):
    return client.generic(method.upper(), url, body, content_type=content_type, **extra)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"endpoint": ', "The body is not valid JSON: Expecting value at line 1, column 14."),
        (b"{'single': 'quotes'}", "The body is not valid JSON: Expecting property name enclosed in double quotes"),
        (b'{"a": NaN}', "NaN is not valid JSON"),
        (b'{"a": Infinity}', "Infinity is not valid JSON"),
        (b'{"a": 1e999}', "out of range"),
        (b'{"a": 1' + b"0" * 5000 + b"}", "The body is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": "\xff\xfe"}', "not UTF-8"),
    ],
    ids=["truncated", "single quotes", "NaN", "Infinity", "huge float", "huge int", "deep", "not utf-8"],
)
@pytest.mark.parametrize(("method", "url"), [("put", DOCUMENT_URL), ("post", RUNS_URL)])
def test_malformed_json_is_a_422_in_the_list_shape(admin_client, method, url, body, message):
    response = raw(admin_client, method, url, body)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body"]
    assert problem["type"] == "json_invalid"
    assert message in problem["msg"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", ""],
)
@pytest.mark.parametrize(("method", "url"), [("put", DOCUMENT_URL), ("post", RUNS_URL)])
def test_a_body_that_is_not_json_is_a_415(admin_client, method, url, content_type):
    response = raw(admin_client, method, url, json.dumps(api_key_document()).encode(), content_type=content_type)
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_json_with_a_charset_is_accepted(admin_client):
    body = json.dumps(api_key_document()).encode()
    assert raw(admin_client, "put", DOCUMENT_URL, body, "application/json; charset=utf-8").status_code == 200


def test_a_document_over_256_kib_is_a_413(admin_client):
    document = api_key_document(headers={f"X-H{i}": "v" * 6000 for i in range(45)})
    body = json.dumps(document).encode()
    assert len(body) > 256 * 1024
    response = raw(admin_client, "put", DOCUMENT_URL, body)
    assert response.status_code == 413
    assert "262144 bytes" in response.json()["detail"]


def test_a_run_over_1_mib_is_a_413(admin_client, integration):
    body = {"integration": "custom", "model": "GPT 5.2", "messages": [{"role": "user", "content": "x" * 1_100_000}]}
    response = raw(admin_client, "post", RUNS_URL, json.dumps(body).encode())
    assert response.status_code == 413


def test_a_body_longer_than_its_content_length_claims_is_still_bounded(admin_client):
    # Only the declared bytes are read, so a lying Content-Length gives truncated (invalid) JSON, not a bigger read.
    body = json.dumps(api_key_document()).encode()
    response = raw(admin_client, "put", DOCUMENT_URL, body, CONTENT_LENGTH="10")
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v2/integrations"),
        ("delete", "/api/v2/integrations"),
        ("patch", "/api/v2/integrations/custom/x"),
        ("post", "/api/v2/integrations/custom/x"),
        ("put", "/api/v2/integrations/custom/x/definition"),
        ("put", "/api/v2/llm_integrations"),
        ("delete", "/api/v2/runs"),
        ("put", "/api/v2/runs/00000000-0000-0000-0000-000000000000"),
    ],
)
def test_a_wrong_method_is_a_405(admin_client, method, url):
    response = getattr(admin_client, method)(url, {}, format="json")
    assert response.status_code == 405
    assert f'Method "{method.upper()}" not allowed.' == response.json()["detail"]
    assert response["Allow"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v2/nope",
        "/api/v2/integrations/",
        "/api/v2/runs/not-a-uuid",
        "/api/v2/runs/a%0Ab",
        "/api/v2/nope%0A/x",
        "/api/v2/integrations/custom/a.b",
        "/api/v2/",
    ],
)
def test_an_unknown_path_is_a_json_404(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_an_unknown_run_is_a_404(admin_client):
    response = admin_client.get("/api/v2/runs/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"detail": "No run here."}


def test_nul_and_lone_surrogates_anywhere_in_a_body_are_a_422_naming_the_place(admin_client, integration):
    body = b'{"integration": "custom", "model": "GPT 5.2", "messages": [{"role": "user", "content": "a\\ud800"}]}'
    response = raw(admin_client, "post", RUNS_URL, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "messages", 0, "content"]

    body = (
        b'{"integration": "custom", "model": "GPT 5.2", "messages": [{"role": "user", "content": "x", "n\\u0000": 1}]}'
    )
    response = raw(admin_client, "post", RUNS_URL, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "messages", 0]


def test_a_nul_in_a_query_parameter_is_a_422(admin_client):
    response = admin_client.get("/api/v2/runs", {"integration": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "integration"]


def test_errors_are_json_for_unauthenticated_callers_too(db):
    from rest_framework.test import APIClient

    response = APIClient().put(DOCUMENT_URL, b"{", content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    response = APIClient().get("/api/v2/integrations", HTTP_GALILEO_API_KEY="gal_wrong")
    assert response.json() == {"detail": "Invalid or revoked API key."}
