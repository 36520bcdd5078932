"""Tools and structured output edited as what they are, in Chromium with a real worker: a tool list with names and
JSON-schema parameters, a response format with a JSON schema, what goes to the provider, and the answer checked
against the schema (the Playground's schema_check) with each mismatch at its path."""

import json

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration
from tests.fixtures.servers import Reply

pytestmark = [pytest.mark.browser, pytest.mark.worker]

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "array", "items": {"type": "integer"}}},
    "required": ["city", "days"],
}
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def completion(content: str) -> Reply:
    message = {"role": "assistant", "content": content}
    return Reply(json={"id": "c1", "object": "chat.completion", "model": "m",
                       "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})  # fmt: skip


def test_tools_and_a_json_schema_are_edited_as_forms_and_the_answer_is_checked(
    page, live_server, celery_worker, openai_server, org
):
    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    document = api_key_document(endpoint=openai_server.url)
    document["model_properties"][0]["supported_parameters"] += ["response_format"]
    make_integration(organization=org, user=admin, name="portkey", document=document)
    log_in(page, "ada")
    page.goto("/playground")
    page.get_by_label("Stream the answer as it is written").uncheck()
    page.get_by_label("User message").fill("Forecast for Paris")
    page.locator("[data-params-details] summary").first.click()

    # A tool, with a name the provider would refuse first: the form says so and nothing is sent.
    page.get_by_role("button", name="Add tool").click()
    page.get_by_label("Tool 1 name").fill("get weather")
    expect(page.locator("[data-tool-editor] [data-problem=name]")).to_have_text(
        "Letters, digits, _ and - only, at most 64."
    )
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator('[data-param="tools"] [data-error]')).to_contain_text("Tool 1: Letters, digits")
    assert openai_server.completion_requests == []
    page.get_by_label("Tool 1 name").fill("get_weather")
    page.get_by_label("Tool 1 description").fill("The weather in a city")
    page.get_by_label("Tool 1 parameters (JSON schema)").fill(json.dumps(WEATHER))
    expect(page.locator("[data-tool-editor] [data-problem=name]")).to_have_text("")

    page.get_by_label("Response format type").select_option("json_schema")
    page.get_by_label("Schema name").fill("forecast")
    page.get_by_label("Strict").check()
    page.get_by_label("JSON schema", exact=True).fill(json.dumps(SCHEMA))

    openai_server.enqueue(completion(json.dumps({"city": "Paris", "days": [1, "two"]})))
    page.get_by_role("button", name="Run", exact=True).click()
    result = page.locator("[data-result]").first
    check = result.locator("[data-schema-check]")
    expect(check).to_contain_text("✗ Does not match the schema:", timeout=15_000)
    expect(check.locator("li")).to_have_text(["$.days[1] 'two' is not of type 'integer'"])
    screenshot(page, "playground-structured-output", full_page=False)

    body = openai_server.completion_requests[0].json
    function = {"name": "get_weather", "description": "The weather in a city", "parameters": WEATHER}
    assert body["tools"] == [{"type": "function", "function": function}]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "forecast", "schema": SCHEMA, "strict": True},
    }

    openai_server.enqueue(completion(json.dumps({"city": "Paris", "days": [1, 2]})))
    page.get_by_role("button", name="Run", exact=True).click()
    expect(check).to_have_text("✓ Matches the schema.", timeout=15_000)

    # The JSON stays editable, and the form follows it.
    page.locator('[data-param="response_format"] .as-json summary').click()
    page.locator('[data-param="response_format"] textarea[data-input]').fill('{"type": "json_object"}')
    page.locator('[data-param="response_format"] textarea[data-input]').dispatch_event("input")
    expect(page.get_by_label("Response format type")).to_have_value("json_object")
    expect(page.get_by_label("Schema name")).to_be_hidden()
