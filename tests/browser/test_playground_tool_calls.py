"""The Playground shows a run's tool calls (name and indented arguments) and its reasoning folded, in Chromium,
with a real worker and the test provider streaming them."""

import re

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


def test_tool_calls_and_folded_reasoning_are_shown(page, live_server, celery_worker, openai_server, org):
    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    call = {"index": 0, "id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    openai_server.enqueue(
        EventStream(
            [
                chunk({"role": "assistant", "reasoning_content": "The user wants the weather; "}),
                chunk({"reasoning_content": "call the tool."}),
                chunk({"tool_calls": [call]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
                chunk({}, "tool_calls"),
                "[DONE]",
            ]
        )
    )
    log_in(page, "ada")
    page.get_by_role("link", name="Playground").click()
    page.get_by_label("User message").fill("What is the weather in Paris?")
    page.get_by_role("button", name="Run").click()

    result = page.locator("[data-result]").first
    expect(result.locator("[data-status]")).to_have_text("ok", timeout=15_000)
    expect(result.locator("[data-tool-name]")).to_have_text("get_weather")
    expect(result.locator("[data-tool-arguments]")).to_have_text('{\n  "city": "Paris"\n}')
    expect(result.locator("[data-tool-call]")).to_contain_text("call_abc")
    expect(result.locator("[data-output]")).not_to_contain_text("(empty answer)")
    reasoning = result.locator("[data-reasoning]")
    expect(reasoning).to_be_visible()
    expect(reasoning.locator("[data-reasoning-text]")).to_be_hidden()  # folded until opened
    reasoning.locator("summary").click()
    expect(reasoning.locator("[data-reasoning-text]")).to_have_text("The user wants the weather; call the tool.")
    screenshot(page, "playground-tool-calls", full_page=False)

    # A plain answer afterwards hides both again.
    page.get_by_label("User message").fill("Hello")
    page.get_by_role("button", name="Run").click()
    expect(result.locator("[data-output]")).to_have_text(re.compile("echo: Hello"), timeout=15_000)
    expect(result.locator("[data-tool-calls]")).to_be_hidden()
    expect(reasoning).to_be_hidden()
