"""The Playground as the README shows it, in Chromium with a real worker, at 1440 px and at 400 px: one model with
its answer and figures, and two models compared (the second column on a saved prompt version). At 400 px nothing
is wider than the screen and every figure stays readable. The screenshots go to test-artifacts/screenshots/;
docs/screenshots/ holds copies of them."""

import re

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from prompts.services import prompt_create
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration

pytestmark = [pytest.mark.browser, pytest.mark.worker]

WIDE, NARROW = {"width": 1440, "height": 960}, {"width": 400, "height": 860}
QUESTION = "In two sentences: why do the leaves of deciduous trees change colour in autumn?"
# The horizontal overflow of the page: 0 when nothing is wider than the viewport.
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def playground(page, live_server, celery_worker, openai_server, org):
    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    french = [
        {"role": "system", "content": "Answer in French, in one sentence."},
        {"role": "user", "content": "Pourquoi les feuilles changent-elles de couleur en {{season}} ?"},
    ]
    prompt_create(organization=org, user=admin, name="autumn-fr", messages=french)
    openai_server.stream_chunk_delay = 0.02
    log_in(page, "ada")
    return page


def fill_messages(page):
    page.get_by_label("System message").fill("You are a concise botanist.")
    page.get_by_label("User message").fill(QUESTION)


def expect_figures(result):
    expect(result.locator("[data-status]")).to_have_text("ok", timeout=15_000)
    expect(result.locator("[data-ttft]")).to_have_text(re.compile(r"^First token \d"))
    expect(result.locator("[data-rate]")).to_have_text(re.compile(r"^\d+\.\d tokens/s$"))
    expect(result.locator("[data-tokens]")).to_have_text(re.compile(r"^Tokens \d+ in · \d+ out$"))
    expect(result.locator("[data-latency]")).to_have_text(re.compile(r"^Latency \d"))


def expect_fits(page, result):
    assert page.evaluate(OVERFLOW) == 0
    box = result.bounding_box()
    for figure in ("ttft", "rate", "tokens", "latency"):  # whole, inside the answer's box
        cell = result.locator(f'[data-figure="{figure}"]')
        assert cell.evaluate("node => node.scrollWidth <= node.clientWidth"), figure
        inner = cell.bounding_box()
        assert box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"] + 0.5, figure


def test_one_model_with_its_answer_and_figures(playground):
    page = playground
    page.set_viewport_size(WIDE)
    page.goto("/playground")
    fill_messages(page)
    page.get_by_role("button", name="Run", exact=True).click()
    result = page.locator("[data-result]")
    expect_figures(result)
    expect(result.locator("[data-output]")).to_have_text(f"echo: {QUESTION}")
    page.get_by_role("link", name="Playground").first.focus()  # no caret blinking in the shot
    screenshot(page, "playground", full_page=False)

    page.set_viewport_size(NARROW)
    result.scroll_into_view_if_needed()
    expect_fits(page, result)
    screenshot(page, "playground-narrow", full_page=True)


def test_two_models_compared_one_on_a_saved_prompt_version(playground):
    page = playground
    page.set_viewport_size(WIDE)
    page.goto("/playground")
    fill_messages(page)
    page.get_by_label("Compare side by side").check()
    columns = page.locator("[data-column]")
    expect(columns).to_have_count(2)
    columns.nth(1).get_by_label("Messages").select_option(label="autumn-fr · v1")
    page.locator("[data-variable=season] input").fill("automne")
    page.get_by_role("button", name="Run all").click()
    results = page.locator("[data-result]")
    for index in range(2):
        expect_figures(results.nth(index))
    expect(columns.nth(1).get_by_label("Model")).not_to_have_value(columns.nth(0).get_by_label("Model").input_value())
    screenshot(page, "playground-compare", full_page=False)

    page.set_viewport_size(NARROW)
    for index in range(2):
        expect_fits(page, results.nth(index))
    screenshot(page, "playground-compare-narrow", full_page=True)
