"""Tool calls and reasoning over HTTP: a conversation with assistant tool calls and tool results is accepted (each
bad message refused with its path), goes out to the provider as given, and the answer's tool calls and reasoning
read back from GET /api/v2/runs/{id} in OpenAI's shape."""

import pytest

from runners.execution import run_execute
from tests.fixtures.servers import Reply

CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
CONVERSATION = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"celsius": 21}'},
]


@pytest.fixture(autouse=True)
def _no_retries(settings):
    settings.RUNNERS_MAX_RETRIES = 0


@pytest.fixture
def provider(admin_client, openai_server):
    document = {
        "authentication_type": "api_key",
        "api_key_header": "x-api-key",
        "api_key_value": "sk-live-SECRET-1",
        "model_properties": [{"name": "echo-model", "alias": "Echo", "supported_parameters": ["max_tokens"]}],
        "endpoint": openai_server.url,
    }
    assert admin_client.put("/api/v2/integrations/custom/provider", document, format="json").status_code == 200
    return openai_server


def start(client, messages):
    body = {"integration": "provider", "model": "Echo", "messages": messages}
    return client.post("/api/v2/runs", body, format="json")


def test_a_conversation_with_tool_results_goes_out_as_given_and_tool_calls_read_back(admin_client, provider):
    next_call = {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}}
    message = {"role": "assistant", "content": None, "tool_calls": [next_call], "reasoning_content": "Need the time."}
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
    provider.enqueue(Reply(json={"id": "x", "object": "chat.completion", "model": "m", "choices": [choice]}))
    response = start(admin_client, CONVERSATION)
    assert response.status_code == 202, response.json()
    run_execute(run_id=response.json()["id"])

    (sent,) = provider.completion_requests
    assert sent.json["messages"] == CONVERSATION
    body = admin_client.get(f"/api/v2/runs/{response.json()['id']}").json()
    assert body["status"] == "succeeded"
    assert body["finish_reason"] == "tool_calls"
    assert body["tool_calls"] == [next_call]
    assert body["reasoning"] == "Need the time."
    assert body["output"] == ""
    assert body["messages"] == CONVERSATION
    # The answer's call continues the conversation as it was read.
    follow_up = [*CONVERSATION, {"role": "assistant", "content": None, "tool_calls": body["tool_calls"]},
                 {"role": "tool", "tool_call_id": "call_2", "content": "14:00"}]  # fmt: skip
    assert start(admin_client, follow_up).status_code == 202


def test_a_run_without_tool_calls_reads_them_as_null(admin_client, provider):
    response = start(admin_client, [{"role": "user", "content": "hi"}])
    run_execute(run_id=response.json()["id"])
    body = admin_client.get(f"/api/v2/runs/{response.json()['id']}").json()

    assert (body["tool_calls"], body["reasoning"]) == (None, None)
    listed = admin_client.get("/api/v2/runs").json()["results"][0]
    assert (listed["tool_calls"], listed["reasoning"]) == (None, None)


def replace(index: int, **changes) -> list[dict]:
    messages = [dict(message) for message in CONVERSATION]
    messages[index].update(changes)
    return [{k: v for k, v in m.items() if v != "DELETE"} for m in messages]


@pytest.mark.parametrize(
    ("messages", "loc", "kind"),
    [
        (replace(2, tool_call_id="call_9"), ["body", "messages", 2, "tool_call_id"], "unknown_tool_call"),
        (replace(2, tool_call_id="DELETE"), ["body", "messages", 2, "tool_call_id"], "missing"),
        (replace(2, content=None), ["body", "messages", 2, "content"], "string_type"),
        (replace(1, tool_calls="DELETE"), ["body", "messages", 1, "content"], "string_type"),
        (replace(1, tool_calls=[]), ["body", "messages", 1, "tool_calls"], "list_type"),
        (replace(1, tool_calls=[{**CALL, "type": "code"}]), ["body", "messages", 1, "tool_calls", 0, "type"],
         "literal_error"),
        (replace(1, tool_calls=[{**CALL, "function": {"name": "f", "arguments": {"city": "Paris"}}}]),
         ["body", "messages", 1, "tool_calls", 0, "function", "arguments"], "string_type"),
        (replace(1, tool_calls=[{**CALL, "id": ""}]), ["body", "messages", 1, "tool_calls", 0, "id"], "string_type"),
        (replace(0, tool_calls=[CALL]), ["body", "messages", 0, "tool_calls"], "extra"),
        (replace(0, tool_call_id="call_1"), ["body", "messages", 0, "tool_call_id"], "extra"),
    ],
)  # fmt: skip
def test_each_bad_tool_message_is_a_422_with_its_path(admin_client, provider, messages, loc, kind):
    response = start(admin_client, messages)

    assert response.status_code == 422
    problems = response.json()["detail"]
    assert [(problem["loc"], problem["type"]) for problem in problems][:1] == [(loc, kind)], problems
    assert provider.completion_requests == []


def test_every_problem_of_a_conversation_is_reported_at_once_in_message_order(admin_client, provider):
    messages = [
        {"role": "narrator", "content": 3},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "a", "type": "function", "function": {}}]},
        {"role": "tool", "content": "x"},
    ]
    problems = start(admin_client, messages).json()["detail"]

    assert [problem["loc"] for problem in problems] == [
        ["body", "messages", 0, "role"],
        ["body", "messages", 0, "content"],
        ["body", "messages", 1, "tool_calls", 0, "function", "name"],
        ["body", "messages", 1, "tool_calls", 0, "function", "arguments"],
        ["body", "messages", 2, "tool_call_id"],
    ]


def test_a_list_read_cuts_the_reasoning_like_the_output(admin_client, provider):
    message = {"role": "assistant", "content": "ok", "reasoning_content": "r" * 3000}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    provider.enqueue(Reply(json={"id": "x", "object": "chat.completion", "choices": [choice]}))
    run_id = start(admin_client, [{"role": "user", "content": "hi"}]).json()["id"]
    run_execute(run_id=run_id)

    assert admin_client.get(f"/api/v2/runs/{run_id}").json()["reasoning"] == "r" * 3000
    assert admin_client.get("/api/v2/runs").json()["results"][0]["reasoning"] == "r" * 1000
