"""Saved prompts and drafts in a real browser: a draft survives a reload (and follows the user to another browser);
a prompt is saved, changed as a new version, reopened at its first version, and a run records that version."""

import time

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from prompts.models import Prompt
from runners.models import Run
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration

pytestmark = [pytest.mark.browser]


@pytest.fixture
def admin(org):
    return UserFactory(username="ada", organization=org, role=Role.ADMIN)


def open_playground(page):
    page.goto("/playground")
    expect(page.get_by_label("Model").first).to_be_visible()


def test_a_draft_survives_a_reload_and_another_browser(browser, page, live_server, admin, org):
    make_integration(organization=org, user=admin, name="portkey", document=api_key_document())
    log_in(page, "ada")
    open_playground(page)
    page.get_by_label("System message").fill("You are terse.")
    page.get_by_label("User message").fill("Summarise {{topic}} in one line")
    page.get_by_label("{{topic}}").fill("the tides")
    page.locator("summary", has_text="Parameters").first.click()
    page.get_by_label("Temperature", exact=True).fill("0.7")
    page.get_by_label("Compare side by side").check()
    columns = page.locator("[data-column]")
    columns.nth(1).get_by_label("Model").select_option("Opus 4.6")
    expect(page.locator("#draft-status")).to_have_text("Draft saved.")
    # "Draft saved." may still be the status of an earlier save while the last change waits for its debounced PUT:
    # wait until the server holds the whole draft before reloading.
    deadline = time.monotonic() + 10
    while "Opus 4.6" not in page.request.get("/playground/draft").text():
        assert time.monotonic() < deadline, "the last change never reached the saved draft"
        time.sleep(0.1)

    def check(page):
        expect(page.get_by_label("System message")).to_have_value("You are terse.")
        expect(page.get_by_label("User message")).to_have_value("Summarise {{topic}} in one line")
        expect(page.get_by_label("{{topic}}")).to_have_value("the tides")
        columns = page.locator("[data-column]")
        expect(columns).to_have_count(2)
        expect(page.get_by_label("Compare side by side")).to_be_checked()
        expect(columns.nth(0).get_by_label("Model")).to_have_value("GPT 5.2")
        expect(columns.nth(1).get_by_label("Model")).to_have_value("Opus 4.6")
        expect(columns.nth(0).get_by_label("Temperature", exact=True)).to_have_value("0.7")

    page.reload()
    check(page)
    # The draft is kept on the server: another browser of the same user gets it too.
    other = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=live_server.url)
    try:
        other_page = other.new_page()
        log_in(other_page, "ada")
        open_playground(other_page)
        check(other_page)
    finally:
        other.close()


def test_the_last_model_chosen_is_selected_on_the_next_visit(page, admin, org):
    make_integration(organization=org, user=admin, name="portkey", document=api_key_document())
    log_in(page, "ada")
    open_playground(page)
    expect(page.get_by_label("Model")).to_have_value("GPT 5.2")
    page.get_by_label("Model").select_option("Opus 4.6")
    expect(page.locator("#draft-status")).to_have_text("Draft saved.")
    open_playground(page)
    expect(page.get_by_label("Model")).to_have_value("Opus 4.6")


@pytest.mark.worker
def test_save_a_prompt_change_it_as_a_new_version_and_reopen_the_first(
    page, live_server, celery_worker, openai_server, admin, org
):
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    log_in(page, "ada")
    open_playground(page)
    page.get_by_label("User message").fill("Say {{word}} politely")
    page.get_by_label("New prompt name").fill("greeting")
    page.get_by_role("button", name="Save as new prompt").click()
    status = page.locator("#prompt-status")
    expect(status).to_have_text("Open: greeting · v1")
    badge = page.locator("[data-prompt-badge]").first
    expect(badge).to_have_text("Runs greeting v1")

    page.get_by_label("User message").fill("Shout {{word}}")
    expect(badge).to_have_text("Edited from greeting v1")
    page.get_by_role("button", name="Save as new version").click()
    expect(status).to_have_text("Open: greeting · v2")
    prompt = Prompt.objects.get(name="greeting")
    assert [v.messages for v in prompt.versions.order_by("number")] == [
        [{"role": "user", "content": "Say {{word}} politely"}],
        [{"role": "user", "content": "Shout {{word}}"}],
    ]

    page.get_by_label("Version", exact=True).select_option(label="v1")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_label("User message")).to_have_value("Say {{word}} politely")
    expect(badge).to_have_text("Runs greeting v1")
    screenshot(page, "playground-saved-prompt", full_page=False)

    # A run of the unedited version records it; the column says which version it ran.
    page.get_by_label("{{word}}").fill("hello")
    page.get_by_role("button", name="Run", exact=True).click()
    output = page.locator("[data-output]").first
    expect(output).to_have_text("echo: Say hello politely", timeout=15_000)
    expect(page.locator("[data-run-prompt]").first).to_have_text("From greeting v1")
    run = Run.objects.get()
    assert run.prompt_version_id == prompt.versions.get(number=1).pk
    assert run.job.template == [{"role": "user", "content": "Say {{word}} politely"}]
    assert run.job.variables == {"word": "hello"}

    # The history reopens the template with its variables, not the filled-in text.
    page.get_by_label("User message").fill("something else")
    page.locator("#history a").first.click()
    expect(page.get_by_label("User message")).to_have_value("Say {{word}} politely")
    expect(page.get_by_label("{{word}}")).to_have_value("hello")
