"""Every profile run three ways through the real runner: plain, streamed, with a tool call (issue 13).

For each: the exact request the provider received (method, path, query, headers, body), the stored Run and the
API's read of it. The expectations come from tests/conformance/profiles.py, written from each server's documents.
"""

import pytest

from tests.conformance.profiles import KINDS, PROFILES
from tests.runners.conftest import sent_headers

CORE_FIELDS = ("status", "output", "finish_reason", "usage", "error_type")
CONTRACT_FIELDS = ("tool_calls", "reasoning")

cases = pytest.mark.parametrize(
    ("profile_class", "kind"),
    [pytest.param(profile, kind, id=f"{profile.name}-{kind}") for profile in PROFILES for kind in KINDS],
)


def base_headers(kind: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "accept": "text/event-stream" if kind == "streamed" else "application/json",
        "user-agent": "custom-model-integrations-runner/1.0",
    }


def run_profile(profile_class, kind, *, serve, integrate, enqueue, execute, openai_server):
    profile = serve(profile_class)
    integration = integrate(profile.document(openai_server.base_url), name=f"conformance-{profile.name}")
    return profile, execute(enqueue(integration, **profile.run_kwargs(kind)))


@cases
def test_the_request_sent_is_exactly_what_the_server_expects(
    profile_class, kind, serve, integrate, enqueue, execute, openai_server
):
    profile, run = run_profile(
        profile_class,
        kind,
        serve=serve,
        integrate=integrate,
        enqueue=enqueue,
        execute=execute,
        openai_server=openai_server,
    )

    (received,) = openai_server.completion_requests
    assert (received.method, received.path, received.query) == ("POST", profile.path, profile.query)
    assert sent_headers(received) == {**base_headers(kind), **profile.credential_headers()}
    assert received.json == profile.expected_body(kind)
    assert run.request["body"] == received.json
    assert run.dropped_parameters == []


@cases
def test_the_answer_is_stored_as_the_server_meant_it(
    profile_class, kind, serve, integrate, enqueue, execute, openai_server
):
    profile, run = run_profile(
        profile_class,
        kind,
        serve=serve,
        integrate=integrate,
        enqueue=enqueue,
        execute=execute,
        openai_server=openai_server,
    )

    expected = profile.expected_run(kind)
    stored = {name: getattr(run, name) for name in CORE_FIELDS}
    stored["output"] = stored["output"] or ""
    assert stored == {name: expected[name] for name in CORE_FIELDS}, run.error_message
    assert run.attempts == 1


@cases
def test_tool_calls_and_reasoning_are_stored_and_read_back(
    profile_class, kind, serve, integrate, enqueue, execute, openai_server, api_read
):
    profile, run = run_profile(
        profile_class,
        kind,
        serve=serve,
        integrate=integrate,
        enqueue=enqueue,
        execute=execute,
        openai_server=openai_server,
    )

    expected = profile.expected_run(kind)
    assert {name: getattr(run, name) for name in CONTRACT_FIELDS} == {name: expected[name] for name in CONTRACT_FIELDS}
    read = api_read(run)
    assert {name: read[name] for name in ("status", "finish_reason", "usage", *CONTRACT_FIELDS)} == {
        name: expected[name] for name in ("status", "finish_reason", "usage", *CONTRACT_FIELDS)
    }
    assert (read["output"] or "") == expected["output"]
    assert read["error"] is None
