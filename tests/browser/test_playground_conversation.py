"""A conversation continued in the Playground, in Chromium with a real worker: an answer's tool call added to the
messages as an assistant turn, its result written as a `tool` message and sent back, then the next answer added and
the conversation carried on; the provider receives each turn in OpenAI's shapes."""

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration
from tests.fixtures.servers import EventStream

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def chunk(delta: dict, finish_reason=None) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}  # fmt: skip


CALL = {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}


def test_a_tool_call_is_answered_with_a_tool_result_and_the_conversation_goes_on(
    page, live_server, celery_worker, openai_server, org
):
    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    openai_server.enqueue(
        EventStream(
            [
                chunk({"role": "assistant", "tool_calls": [{"index": 0, **CALL, "function": {**CALL["function"]}}]}),
                chunk({}, "tool_calls"),
                "[DONE]",
            ]
        )
    )
    log_in(page, "ada")
    page.get_by_role("link", name="Playground").click()
    page.get_by_label("User message").fill("What is the weather in Paris?")
    page.get_by_role("button", name="Run", exact=True).click()
    result = page.locator("[data-result]").first
    expect(result.locator("[data-status]")).to_have_text("ok", timeout=15_000)
    expect(result.locator("[data-tool-name]")).to_have_text("get_weather")

    result.get_by_role("button", name="Add to conversation").click()
    # The assistant turn shows its call; the result to write is the tool message, focused.
    turn = page.locator('#messages .message[data-role="assistant"]')
    expect(turn.locator("[data-message-tool-call]")).to_contain_text("get_weather")
    expect(turn.locator("[data-message-tool-call]")).to_contain_text('"city": "Paris"')
    tool_result = page.get_by_label("Tool result for get_weather")
    expect(tool_result).to_be_focused()
    tool_result.fill('{"temperature": 21}')
    screenshot(page, "playground-tool-result", full_page=False)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(result.locator("[data-output]")).to_have_text("echo: What is the weather in Paris?", timeout=15_000)
    expect(result.locator("[data-tool-calls]")).to_be_hidden()

    sent = openai_server.completion_requests[1].json["messages"]
    assert sent == [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_abc", "content": '{"temperature": 21}'},
    ]

    # The text answer goes on as an assistant turn, and a new user message is ready to write.
    result.get_by_role("button", name="Add to conversation").click()
    expect(page.locator("#messages textarea").last).to_be_focused()
    page.locator("#messages textarea").last.fill("Thanks")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(result.locator("[data-output]")).to_have_text("echo: Thanks", timeout=15_000)
    sent = openai_server.completion_requests[2].json["messages"]
    assert sent[3:] == [
        {"role": "assistant", "content": "echo: What is the weather in Paris?"},
        {"role": "user", "content": "Thanks"},
    ]

    # Reopened from the history, the conversation comes back with its tool turn.
    page.reload()
    page.locator("#history [data-run-id]").nth(1).click()
    expect(page.get_by_label("Tool result for get_weather")).to_have_value('{"temperature": 21}')
