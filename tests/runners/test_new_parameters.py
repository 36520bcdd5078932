"""Run parameters seed and parallel_tool_calls: validated like the others, sent under their OpenAI names."""

import pytest

from core.problems import Invalid
from runners.parameters import validate_parameters
from tests.runners.conftest import provider_document


def test_seed_and_parallel_tool_calls_are_sent_when_the_model_supports_them(execute, openai_server, integrate, enqueue):
    document = provider_document(
        openai_server.url,
        model_properties=[{"name": "m", "supported_parameters": ["seed", "parallel_tool_calls", "tools"]}],
    )
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]

    run = execute(enqueue(integrate(document), parameters={"seed": 42, "parallel_tool_calls": False, "tools": tools}))

    assert run.status == "succeeded", run.error_message
    (received,) = openai_server.completion_requests
    assert received.json == {
        "model": "m",
        "messages": [{"role": "user", "content": "Hello there"}],
        "seed": 42,
        "parallel_tool_calls": False,
        "tools": tools,
    }


def test_they_are_dropped_for_a_model_that_does_not_support_them(execute, openai_server, integrate, enqueue):
    run = enqueue(integrate(provider_document(openai_server.url)), parameters={"seed": 1, "parallel_tool_calls": True})

    assert run.dropped_parameters == ["parallel_tool_calls", "seed"]
    execute(run)
    assert set(openai_server.completion_requests[0].json) == {"model", "messages"}


@pytest.mark.parametrize(
    ("parameters", "loc"),
    [
        ({"seed": "42"}, ("parameters", "seed")),
        ({"seed": 1.5}, ("parameters", "seed")),
        ({"seed": True}, ("parameters", "seed")),
        ({"seed": 2**63}, ("parameters", "seed")),
        ({"parallel_tool_calls": "true"}, ("parameters", "parallel_tool_calls")),
        ({"parallel_tool_calls": 1}, ("parameters", "parallel_tool_calls")),
    ],
)
def test_bad_values_are_refused_with_their_path(parameters, loc):
    with pytest.raises(Invalid) as caught:
        validate_parameters(parameters)
    assert [error.loc for error in caught.value.errors] == [loc]


def test_good_values_pass():
    assert validate_parameters({"seed": -(2**63), "parallel_tool_calls": True}) == {
        "seed": -(2**63),
        "parallel_tool_calls": True,
    }
