"""No piece of a secret, in any form it travels in, reaches what a member or an operator reads (issue 14, item 1).

A provider that echoes the request it received (headers and body, as JSON and URL-encoded) is the worst case: every
credential the runner sent comes back in the answer. Secrets planted: an API key, header values with characters that
JSON and URL encodings change, an OAuth2 client id and secret, and the access tokens the token server issues.
Searched for: every run of PIECE_LENGTH (8) characters of each secret, in the run's output, response, request, error,
attempt log and the live output of a streamed run.
"""

import base64
import json
import secrets
import threading
import time

import pytest
from django.core.cache import cache

from runners.execution import run_execute
from runners.live_output import live_output_key
from runners.models import Run
from runners.redaction import PIECE_LENGTH, scrub, secret_forms
from tests.fixtures.servers import EventStream, Reply
from tests.runners.conftest import provider_document

API_KEY = "sk-proj-Qm3xV9tLw2Rb8Nc4Hs7Jd1Kf6Gp0Zy5"
HEADER_SECRETS = {"X-Gateway-Secret": 'gw/secret+with"quotes&equals=ZZ9q', "X-Tenant-Token": "tenant tok 0f1e2d3c4b5a"}
CLIENT_ID = "svc-client-id-4f7a9c2e"
CLIENT_SECRET = "client/secret+7Kq2Wn9Xr4Tm"


@pytest.fixture
def oauth_client(oauth2_server):
    """The token server knows CLIENT_ID with a secret new to this test (no token cached by an earlier run)."""
    secret = f"{CLIENT_SECRET}-{secrets.token_hex(4)}"
    oauth2_server.add_client(CLIENT_ID, secret)
    oauth2_server.client_id, oauth2_server.client_secret = CLIENT_ID, secret
    return oauth2_server


def pieces(secret: str) -> set[str]:
    return {secret[i : i + PIECE_LENGTH] for i in range(len(secret) - PIECE_LENGTH + 1)}


def leaks(text: str, secrets) -> list[str]:
    found = []
    for secret in secrets:
        for form in secret_forms(secret):
            found += [f"{piece!r} of {secret!r}" for piece in pieces(form) if piece in text]
    return sorted(set(found))


def run_texts(run: Run) -> str:
    fields = [run.output, run.response, run.request, run.error_message, run.attempt_log]
    return "\n".join(value if isinstance(value, str) else json.dumps(value) for value in fields)


@pytest.fixture
def execute(integrate, queued_run):
    def run(document: dict, model: str | None = None, **fields) -> Run:
        run = queued_run(integrate(document), model, **fields)
        run_execute(run_id=str(run.pk))
        return Run.objects.get(pk=run.pk)

    return run


@pytest.mark.django_db
def test_a_provider_echoing_the_request_shows_no_piece_of_the_key_or_header_values(execute, openai_server):
    document = provider_document(
        openai_server.url, models=["echo-request"], api_key_value=API_KEY, headers=HEADER_SECRETS
    )

    run = execute(document)

    assert run.status == "succeeded"
    assert "x-portkey-api-key" in run.output  # the echo is there, its secrets are not
    assert leaks(run_texts(run), [API_KEY, *HEADER_SECRETS.values()]) == []


@pytest.mark.django_db
def test_an_access_token_and_every_component_of_token_are_hidden(execute, openai_server, oauth_client):
    oauth2_server = oauth_client
    document = oauth2_server.document(openai_server.url)
    document["model_properties"][0]["name"] = "echo-request"

    run = execute(document)

    assert run.status == "succeeded"
    tokens = oauth2_server.issued_tokens
    assert tokens and "authorization" in run.output
    assert leaks(run_texts(run), [*tokens, CLIENT_ID, oauth2_server.client_secret]) == []


@pytest.mark.django_db
def test_a_token_endpoint_quoting_the_client_id_and_a_basic_value_shows_neither(execute, openai_server, oauth_client):
    oauth2_server, secret = oauth_client, oauth_client.client_secret
    basic = base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
    description = f"unknown client {CLIENT_ID} (Authorization: Basic {basic}, secret {secret[:12]})"
    # Twice: after an invalid_client the runner tries the other client authentication method once.
    oauth2_server.enqueue(*[Reply(status=401, json={"error": "invalid_client", "error_description": description})] * 2)

    run = execute(oauth2_server.document(openai_server.url))

    assert run.error_type == "token_endpoint_error"
    assert "unknown client ********" in run.error_message
    assert leaks(run.error_message, [CLIENT_ID, secret, basic]) == []


@pytest.mark.django_db
def test_a_basic_api_key_hides_the_user_and_password_it_carries(execute, openai_server):
    basic = base64.b64encode(b"gateway-user-77:gateway-password-99").decode()
    message = "user gateway-user-77 may not use this model (password gateway-password-99 expired)"
    openai_server.enqueue(Reply(status=403, json={"error": {"message": message}}))

    run = execute(provider_document(openai_server.url, api_key_header="Authorization", api_key_value=f"Basic {basic}"))

    assert run.error_type == "auth_rejected"
    assert leaks(run.error_message, ["gateway-user-77", "gateway-password-99", basic]) == []


@pytest.mark.django_db(transaction=True)
def test_the_live_output_of_a_streamed_run_never_shows_a_piece_of_the_key(execute, openai_server):
    def chunk(text):
        return {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}

    # The key arrives split over chunks, as a streaming echo would send it.
    halves = [API_KEY[:15], API_KEY[15:]]
    events = [chunk("your key is "), chunk(halves[0]), chunk(halves[1]), chunk(" (echoed)"), "[DONE]"]
    openai_server.enqueue(EventStream(events=events, delay=0.3))
    document = provider_document(openai_server.url, api_key_value=API_KEY)
    seen: list[str] = []
    done = threading.Event()
    result: dict = {}

    def execute_in_background():
        result["run"] = execute(document, stream=True)
        done.set()

    worker = threading.Thread(target=execute_in_background)
    worker.start()
    while not done.is_set():
        for run in Run.objects.filter(stream=True):
            value = cache.get(live_output_key(run.pk))
            if value:
                seen.append(value)
        time.sleep(0.02)
    worker.join()

    assert any("your key is" in value for value in seen)
    assert leaks("\n".join(seen), [API_KEY]) == []
    assert result["run"].output == "your key is ******** (echoed)"


@pytest.mark.parametrize(
    ("secret", "text", "expected"),
    [
        ("abcd", "the abcd and abcdef, xabcdx abcd.", "the ******** and abcdef, xabcdx ********."),
        ("abc", "abc is too short to tell from a word", "abc is too short to tell from a word"),
        ("Bearer tok3n-value-123", "Bearer x and Bearer tok3n-value-123", "Bearer x and ********"),
        ("a b c d e f g h i", "a b c d e f g h i", "********"),
    ],
)
def test_short_secrets_and_words_of_longer_ones_follow_the_documented_rule(secret, text, expected):
    assert scrub(text, [secret]) == expected
