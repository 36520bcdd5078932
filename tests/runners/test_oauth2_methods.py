"""OAuth2 client authentication (issue 13 item 13) against the real token server: client_secret_post and
client_secret_basic (RFC 6749 section 2.3.1), the other method tried once after invalid_client and remembered for the
integration, extra token form fields, and a pinned method that is never swapped."""

import base64
import json
import secrets
from urllib.parse import quote_plus

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from core.problems import Invalid
from integrations.models import Integration
from integrations.services import integration_document, integration_oauth2_method_pin, integration_version
from organizations.services import api_key_issue
from runners import integration_cache
from runners.auth import client_credentials

POST, BASIC = "client_secret_post", "client_secret_basic"


@pytest.fixture
def client(oauth2_server):
    """add(auth_method=None, required_params=None, client_id=...) -> (client_id, client_secret) of a new client of
    the token server; secrets are new per test (the shared cache outlives a test)."""

    def add(*, auth_method=None, required_params=None, client_id=None):
        client_id = client_id or f"client-{secrets.token_hex(4)}"
        client_secret = f"secret-{secrets.token_hex(8)}"
        oauth2_server.add_client(
            client_id, client_secret, scopes=("inference",), auth_method=auth_method, required_params=required_params
        )
        return client_id, client_secret

    return add


def document_for(oauth2_server, openai_server, client_id, client_secret, **overrides) -> dict:
    token = json.dumps({"client_id": client_id, "client_secret": client_secret})
    return oauth2_server.document(openai_server.url, token=token, **overrides)


def methods(oauth2_server) -> list[tuple[str | None, int]]:
    return [(request.auth_method, request.status) for request in oauth2_server.token_requests]


def forget_the_token(integration: Integration) -> None:
    """Drop the cached access token (as its expiry would), keeping what was learned."""
    credentials = client_credentials(
        token_url=integration.token_url,
        token_document=integration.token,
        scope=integration.authentication_scope,
        params=integration.oauth2_token_params,
    )
    cache.delete(credentials.cache_key)
    return credentials


def test_a_client_that_needs_basic_gets_it_after_one_invalid_client_and_it_is_remembered(
    execute, openai_server, oauth2_server, client, integrate, enqueue
):
    openai_server.require_oauth2(oauth2_server)
    client_id, client_secret = client(auth_method=BASIC)
    integration = integrate(document_for(oauth2_server, openai_server, client_id, client_secret))
    version = integration_version(integration=integration)

    run = execute(enqueue(integration))

    assert run.status == "succeeded", run.error_message
    assert methods(oauth2_server) == [(POST, 401), (BASIC, 200)]
    assert run.attempts == 1  # token requests are not attempts of the run
    integration.refresh_from_db()
    assert integration.oauth2_token_auth_method_learned == BASIC
    assert integration.oauth2_token_auth_method_learned_at is not None
    assert integration_version(integration=integration) == version  # the document did not change: same ETag
    assert "oauth2_token_auth_method" not in integration_document(integration=integration)

    # The next token request (any worker: the shared cache says so) goes with Basic at once.
    credentials = forget_the_token(integration)
    assert execute(enqueue(integration)).status == "succeeded"
    assert methods(oauth2_server)[2:] == [(BASIC, 200)]

    # So does a worker that starts afresh, from what the database remembers.
    forget_the_token(integration)
    cache.delete(f"{credentials.cache_key}:method")
    integration_cache._entries.clear()
    assert execute(enqueue(integration)).status == "succeeded"
    assert methods(oauth2_server)[3:] == [(BASIC, 200)]


def test_a_client_that_takes_post_is_asked_once_and_post_is_remembered(
    execute, openai_server, oauth2_server, client, integrate, enqueue
):
    client_id, client_secret = client(auth_method=POST)
    integration = integrate(document_for(oauth2_server, openai_server, client_id, client_secret))

    assert execute(enqueue(integration)).status == "succeeded"

    assert methods(oauth2_server) == [(POST, 200)]
    request = oauth2_server.token_requests[0]
    assert request.form == {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": "inference",
    }
    assert "authorization" not in request.headers
    integration.refresh_from_db()
    assert integration.oauth2_token_auth_method_learned == POST


def test_client_secret_basic_form_urlencodes_id_and_secret_before_base64(
    execute, openai_server, oauth2_server, integrate, enqueue
):
    # RFC 6749 section 2.3.1: a secret with ":" "+" "%" " " and non-ASCII only survives if encoded first.
    client_id, client_secret = f"svc account:{secrets.token_hex(3)}", f"p@ss w+rd/%:é-{secrets.token_hex(4)}"
    oauth2_server.add_client(client_id, client_secret, auth_method=BASIC)
    document = document_for(oauth2_server, openai_server, client_id, client_secret, oauth2_token_auth_method=BASIC)
    run = execute(enqueue(integrate(document)))

    assert run.status == "succeeded", run.error_message
    [request] = oauth2_server.token_requests
    expected = base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.form == {"grant_type": "client_credentials", "scope": "inference"}  # no credential in the body
    assert request.client_id == client_id
    stored = json.dumps([run.request, run.error_message, run.attempt_log, run.output])
    assert client_secret not in stored and expected not in stored


def test_a_method_named_in_the_document_is_never_swapped(
    execute, openai_server, oauth2_server, client, integrate, enqueue
):
    client_id, client_secret = client(auth_method=BASIC)
    document = document_for(oauth2_server, openai_server, client_id, client_secret, oauth2_token_auth_method=POST)
    integration = integrate(document)
    run = execute(enqueue(integration))

    assert (run.status, run.error_type, run.attempts) == ("failed", "token_endpoint_error", 1)
    assert methods(oauth2_server) == [(POST, 401)]
    assert run.error_message.endswith(
        "The client authenticated with the credentials in the form, as oauth2_token_auth_method says."
    )
    assert client_secret not in run.error_message
    integration.refresh_from_db()
    assert integration.oauth2_token_auth_method_learned == ""


def test_extra_token_fields_are_sent_and_a_missing_one_is_not_mistaken_for_a_wrong_method(
    execute, openai_server, oauth2_server, client, integrate, enqueue
):
    audience = "https://api.provider.example"
    client_id, client_secret = client(required_params={"audience": audience})
    without = integrate(document_for(oauth2_server, openai_server, client_id, client_secret), name="no-audience")
    run = execute(enqueue(without))

    assert (run.status, run.error_type) == ("failed", "token_endpoint_error")
    assert "HTTP 400" in run.error_message and "audience" in run.error_message
    assert methods(oauth2_server) == [(POST, 400)]  # invalid_request, not invalid_client: no second method

    params = {"audience": audience, "resource": "api://inference"}
    document = document_for(
        oauth2_server,
        openai_server,
        client_id,
        client_secret,
        oauth2_token_params=params,
        model_properties=[{"name": "model-b", "supported_parameters": []}],
    )
    assert execute(enqueue(integrate(document, name="with-audience"))).status == "succeeded"
    assert oauth2_server.token_requests[-1].form == {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": "inference",
        **params,
    }


def test_another_audience_is_another_token(openai_server, oauth2_server):
    base = {"token_url": oauth2_server.url, "token_document": '{"client_id": "a", "client_secret": "b"}', "scope": ""}
    first = client_credentials(**base, params={"audience": "one"})
    second = client_credentials(**base, params={"audience": "two"})
    assert first.cache_key != second.cache_key
    assert first.cache_key == client_credentials(**base, params={"audience": "one"}, auth_method=BASIC).cache_key


def test_the_api_read_tells_the_learned_method_and_pinning_it_goes_through_the_update_service(
    execute, openai_server, oauth2_server, client, integrate, enqueue, admin_user
):
    api = APIClient()
    api.credentials(HTTP_GALILEO_API_KEY=api_key_issue(user=admin_user).raw_key)
    client_id, client_secret = client(auth_method=BASIC)
    integration = integrate(document_for(oauth2_server, openai_server, client_id, client_secret))
    before = api.get("/api/v2/integrations/custom/custom")
    assert before.json()["oauth2_token_auth_method_learned"] is None

    execute(enqueue(integration))

    after = api.get("/api/v2/integrations/custom/custom")
    learned = after.json()["oauth2_token_auth_method_learned"]
    assert learned["method"] == BASIC and learned["learned_at"].endswith("Z")
    assert after.headers["ETag"] == before.headers["ETag"]
    assert client_secret not in after.content.decode()

    integration.refresh_from_db()
    pinned = integration_oauth2_method_pin(integration=integration, user=admin_user)

    assert integration_document(integration=pinned, reveal_secrets=True)["oauth2_token_auth_method"] == BASIC
    assert json.loads(pinned.token) == {"client_id": client_id, "client_secret": client_secret}  # secret kept
    assert api.get("/api/v2/integrations/custom/custom").headers["ETag"] != before.headers["ETag"]
    with pytest.raises(Invalid) as caught:
        integration_oauth2_method_pin(integration=pinned, user=admin_user)
    assert caught.value.errors[0].type == "already_set"

    # Pinned: one Basic request, whatever the cache says.
    forget_the_token(pinned)
    assert execute(enqueue(pinned)).status == "succeeded"
    assert methods(oauth2_server)[2:] == [(BASIC, 200)]


def test_a_changed_token_client_forgets_what_was_learned(
    execute, openai_server, oauth2_server, client, integrate, enqueue
):
    client_id, client_secret = client(auth_method=BASIC)
    integration = integrate(document_for(oauth2_server, openai_server, client_id, client_secret))
    execute(enqueue(integration))
    integration.refresh_from_db()
    assert integration.oauth2_token_auth_method_learned == BASIC

    other_id, other_secret = client()
    integration = integrate(document_for(oauth2_server, openai_server, other_id, other_secret))
    assert integration.oauth2_token_auth_method_learned == ""


def test_pinning_with_nothing_learned_is_refused(oauth2_server, openai_server, integrate, admin_user):
    integration = integrate(oauth2_server.document(openai_server.url))
    with pytest.raises(Invalid) as caught:
        integration_oauth2_method_pin(integration=integration, user=admin_user)
    assert caught.value.errors[0].loc == ("oauth2_token_auth_method",)
