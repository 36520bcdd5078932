"""The seed's flow in a real browser: Settings > Integrations, the Custom card, Add Integration, paste JSON,
Save changes, Test, then pick the model in the Playground and run a prompt; against a real Celery worker and
an OpenAI-compatible test provider."""

import json
import re

import pytest
from playwright.sync_api import expect

from integrations.models import Integration
from organizations.models import Role
from runners.models import Run
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration

pytestmark = [pytest.mark.browser, pytest.mark.worker]

INTEGRATIONS = re.compile(r"^Settings\W+Integrations$")


@pytest.fixture
def admin(org):
    return UserFactory(username="ada", organization=org, role=Role.ADMIN)


def test_add_an_integration_by_pasting_json_then_test_it(page, live_server, celery_worker, openai_server, admin, org):
    page.goto("/accounts/login/")
    screenshot(page, "login", full_page=False)
    log_in(page, "ada")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Playground").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=INTEGRATIONS).click()
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()

    page.get_by_role("article", name="Custom").get_by_role("link", name="Add Integration").click()
    expect(page).to_have_url(re.compile(r"/settings/integrations/custom/new$"))
    editor = page.get_by_label("Integration JSON")
    expect(editor).to_have_value(re.compile("YOUR_PROVIDER_BASE_URL"))  # the starter document
    page.get_by_label("Name").fill("portkey")

    # A JSON syntax error is caught in the page, with its line, before anything is sent.
    editor.fill('{\n  "endpoint": "https://x.example/v1",\n  "model_properties": [}\n}')
    expect(page.locator("#json-status")).to_contain_text("JSON syntax error on line 3")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/custom/new$"))
    expect(page.locator("#document-errors")).to_have_count(0)

    # A document the server rejects: errors listed with their paths, the line highlighted, nothing saved.
    bad = api_key_document(endpoint=openai_server.url)
    bad["model_properties"][0] = {"name": "gpt-5.2", "alias": "GPT 5.2", "based_on": "GPT 5.2 Turbo"}
    bad_text = json.dumps(bad, indent=2)
    editor.fill(bad_text)
    page.get_by_role("button", name="Save changes").click()
    errors = page.locator("#document-errors")
    expect(errors).to_contain_text("model_properties[0].based_on")
    expect(errors).to_contain_text("is not a built-in model alias")
    bad_line = next(n for n, line in enumerate(bad_text.splitlines(), 1) if "GPT 5.2 Turbo" in line)
    expect(errors.get_by_role("link", name=f"line {bad_line}")).to_be_visible()
    expect(page.locator(".gutter .is-error")).to_have_text([str(bad_line)])
    assert not Integration.objects.exists()
    screenshot(page, "integration-editor-errors")

    # The seed's API-key example, adapted to the test provider.
    editor.fill(json.dumps(api_key_document(endpoint=openai_server.url), indent=2))
    expect(page.locator("#json-status")).to_have_text("Valid JSON")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/settings/integrations$"))
    expect(page.get_by_role("status").first).to_contain_text("Added integration “portkey” with 3 models.")
    listed = page.locator("#integration-portkey")
    expect(listed).to_contain_text(openai_server.url)
    for alias in ("GPT 5.2", "GPT 5.4", "Opus 4.6"):
        expect(listed.get_by_text(alias, exact=True)).to_be_visible()
    expect(listed).to_contain_text("Never tested")
    screenshot(page, "settings-integrations")

    # Test: one run per model through the worker, results live on the page.
    listed.get_by_role("button", name="Test").click()
    expect(page.locator("#test-results")).to_have_attribute("data-done", "true", timeout=20_000)
    results = page.locator(".run-result")
    expect(results).to_have_count(3)
    for index in range(3):
        expect(results.nth(index).locator(".status")).to_have_text("ok")
        expect(results.nth(index).locator(".output")).to_have_text("echo: Reply with OK.")
    results.first.get_by_text("Request as sent").click()
    expect(results.first.locator("pre")).to_contain_text('"x-portkey-api-key": "********"')
    expect(results.first.locator("pre")).not_to_contain_text("sk-test-ABC123")
    screenshot(page, "integration-test-results")
    assert len(openai_server.completion_requests) == 3

    page.get_by_role("navigation", name="Main").get_by_role("link", name=INTEGRATIONS).click()
    expect(page.locator("#integration-portkey")).to_contain_text("ok · 3/3 models")


def test_run_a_prompt_in_the_playground_then_compare_two_models(
    page, live_server, celery_worker, openai_server, admin, org
):
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    openai_server.stream_chunk_delay = 0.15
    log_in(page, "ada")
    page.get_by_role("link", name="Playground").click()

    model = page.get_by_label("Model")
    expect(model).to_have_value("GPT 5.2")  # the integration's default model
    expect(model.locator("optgroup")).to_have_attribute("label", "portkey")

    # Parameter fields are exactly the selected model's supported parameters.
    page.locator("summary", has_text="Parameters").first.click()
    expect(page.get_by_label("Verbosity")).to_be_visible()
    expect(page.get_by_label("Top K")).to_have_count(0)
    model.select_option("Opus 4.6")
    expect(page.get_by_label("Top K")).to_be_visible()
    expect(page.get_by_label("Verbosity")).to_have_count(0)
    expect(page.get_by_label("Temperature", exact=True)).to_have_attribute("max", "2")
    model.select_option("GPT 5.2")

    # A bad value comes back from the server's validation, next to its field.
    page.get_by_label("Temperature", exact=True).fill("5")
    page.get_by_label("User message").fill("Hello")
    page.get_by_role("button", name="Run").click()
    expect(page.locator('[data-param="temperature"] .field-errors')).to_contain_text("less than or equal to 2")
    assert not Run.objects.exists()
    page.get_by_label("Temperature", exact=True).fill("")

    # {{variables}} get a field as they are typed and are substituted before sending; the answer streams in.
    page.get_by_label("User message").fill("Tell me about {{city}} and its many old bridges and hills")
    page.get_by_label("{{city}}").fill("Porto")
    page.get_by_role("button", name="Run").click()
    output = page.locator("[data-output]").first
    expect(output).to_have_class(re.compile("is-streaming"), timeout=10_000)  # partial text while running
    screenshot(page, "playground-streaming", full_page=False)
    expect(output).to_have_text("echo: Tell me about Porto and its many old bridges and hills", timeout=15_000)
    expect(page.locator("[data-result] [data-status]").first).to_have_text("ok")
    expect(page.locator("[data-latency]").first).to_contain_text("Latency")
    sent = openai_server.completion_requests[-1].json
    assert sent["model"] == "gpt-5.2" and sent["stream"] is True
    assert sent["messages"] == [{"role": "user", "content": "Tell me about Porto and its many old bridges and hills"}]

    # Max tokens reaches the provider (the echo provider truncates to it).
    page.get_by_label("Stream the answer").uncheck()
    page.get_by_label("Max tokens").fill("3")
    page.get_by_role("button", name="Run").click()
    expect(output).to_have_text("echo: Tell me", timeout=15_000)
    expect(page.locator("[data-tokens]").first).to_contain_text("out")
    assert openai_server.completion_requests[-1].json["max_tokens"] == 3

    # Compare: two columns, each its own model, Run all.
    page.get_by_label("Max tokens").fill("")
    page.get_by_label("Compare side by side").check()
    columns = page.locator("[data-column]")
    expect(columns).to_have_count(2)
    columns.nth(1).get_by_label("Model").select_option("Opus 4.6")
    page.get_by_label("User message").fill("Compare us")
    page.get_by_role("button", name="Run all").click()
    for index in range(2):
        expect(columns.nth(index).locator("[data-output]")).to_have_text("echo: Compare us", timeout=15_000)
    models_sent = sorted(r.json["model"] for r in openai_server.completion_requests[-2:])
    assert models_sent == ["claude-opus-4-6", "gpt-5.2"]
    columns.first.locator("summary", has_text="Parameters").click()  # fold them for a tidy picture
    screenshot(page, "playground-compare")

    # History: past runs are listed, a comparison as one entry; opening one shows it again, as the template with
    # its variables; opening the comparison reopens both columns.
    history = page.locator("#history a")
    expect(history).to_have_count(3)
    expect(history.first).to_contain_text("GPT 5.2 · Opus 4.6")
    history.last.click()
    expect(page.get_by_label("User message")).to_have_value("Tell me about {{city}} and its many old bridges and hills")
    expect(page.get_by_label("{{city}}")).to_have_value("Porto")
    expect(columns).to_have_count(1)
    expect(columns.first.locator("[data-output]")).to_have_text(
        "echo: Tell me about Porto and its many old bridges and hills"
    )
    history.first.click()
    expect(columns).to_have_count(2)
    expect(columns.nth(1).get_by_label("Model")).to_have_value("Opus 4.6")
    expect(columns.nth(1).locator("[data-output]")).to_have_text("echo: Compare us")


def test_a_failing_model_shows_its_clear_error_in_the_test_results(
    page, live_server, celery_worker, openai_server, admin, org
):
    document = api_key_document(
        endpoint=openai_server.url,
        model_properties=[
            {"name": "good-model", "alias": "Good"},
            {"name": "status-401", "alias": "Rejected"},  # the test provider answers HTTP 401 for this name
        ],
    )
    make_integration(organization=org, user=admin, name="mixed", document=document)
    log_in(page, "ada")
    page.locator("#integration-mixed").get_by_role("button", name="Test").click()
    expect(page.locator("#test-results")).to_have_attribute("data-done", "true", timeout=20_000)
    expect(page.locator(".test-summary")).to_contain_text("1 of 2 models failed.")
    good, rejected = page.locator('[data-model="Good"]'), page.locator('[data-model="Rejected"]')
    expect(good.locator(".status")).to_have_text("ok")
    expect(rejected.locator(".status")).to_have_text("failed")
    expect(rejected.locator(".error-box")).to_contain_text("401")
    expect(rejected.locator(".error-box")).not_to_contain_text("sk-test-ABC123")
    screenshot(page, "integration-test-failure")
    page.get_by_role("navigation", name="Main").get_by_role("link", name=INTEGRATIONS).click()
    expect(page.locator("#integration-mixed")).to_contain_text("failed · 1 of 2")
