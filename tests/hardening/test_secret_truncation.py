"""Secrets are scrubbed before any text is shortened: a cut through a secret must not leave a piece of it.

The provider's words are cut to 300 characters in an error message; before this was fixed the cut came first, so a key
quoted near the cut lost its tail, no longer matched, and its first characters reached the run's error.
"""

import pytest

from runners.execution import run_execute
from runners.models import Run
from runners.transport import MAX_DETAIL_LENGTH
from tests.fixtures.servers import Reply
from tests.runners.conftest import provider_document

API_KEY = "sk-live-0123456789abcdefghijklmnopqrstuv"
HEADER_SECRET = "hdr-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA"
CLIENT_SECRET = "client-secret-9f8e7d6c5b4a39281706"

pytestmark = pytest.mark.django_db


def quoted_at_the_cut(secret: str) -> str:
    """Provider words that put `secret` across the point where the message is cut."""
    return "x" * (MAX_DETAIL_LENGTH - len(secret) // 2) + " " + secret + " and more words after it"


def pieces(secret: str, length: int = 8) -> set[str]:
    return {secret[i : i + length] for i in range(len(secret) - length + 1)}


def leaked(text: str, secret: str) -> list[str]:
    return sorted(piece for piece in pieces(secret) if piece in text)


@pytest.fixture
def run_against(openai_server, integrate, queued_run):
    def run(document: dict) -> Run:
        run = queued_run(integrate(document))
        run_execute(run_id=str(run.pk))
        return Run.objects.get(pk=run.pk)

    return run


@pytest.mark.parametrize("status", [400, 401, 500])
def test_an_api_key_quoted_across_the_cut_leaves_no_piece_in_the_error(run_against, openai_server, settings, status):
    settings.RUNNERS_MAX_RETRIES = 0
    openai_server.enqueue(Reply(status=status, json={"error": {"message": quoted_at_the_cut(API_KEY)}}))

    run = run_against(provider_document(openai_server.url, api_key_value=API_KEY))

    assert run.status == "failed"
    assert "********" in run.error_message
    assert leaked(run.error_message, API_KEY) == []


def test_a_header_secret_quoted_across_the_cut_leaves_no_piece_in_the_error(run_against, openai_server, settings):
    settings.RUNNERS_MAX_RETRIES = 0
    openai_server.enqueue(Reply(status=400, json={"error": {"message": quoted_at_the_cut(HEADER_SECRET)}}))

    run = run_against(provider_document(openai_server.url, headers={"X-Gateway-Secret": HEADER_SECRET}))

    assert leaked(run.error_message, HEADER_SECRET) == []


def test_a_client_secret_quoted_across_the_cut_by_the_token_endpoint_leaves_no_piece(
    run_against, openai_server, oauth2_server
):
    oauth2_server.client_secret = CLIENT_SECRET
    description = quoted_at_the_cut(CLIENT_SECRET)
    oauth2_server.enqueue(Reply(status=401, json={"error": "invalid_client", "error_description": description}))
    document = oauth2_server.document(openai_server.url)

    run = run_against(document)

    assert run.error_type == "token_endpoint_error"
    assert leaked(run.error_message, CLIENT_SECRET) == []
