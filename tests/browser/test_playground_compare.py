"""Compare mode in Chromium with a real worker: answers sit in one row across columns however far each column's
parameters are unfolded, each with its time to first token, tokens per second, tokens and latency, every figure at
the same height in every column."""

import re
import time

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from runners.models import Run
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_answers_are_aligned_in_one_row_with_their_figures(page, live_server, celery_worker, openai_server, org):
    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    openai_server.stream_chunk_delay = 0.03  # the answer is written over a while after its first token
    log_in(page, "ada")
    page.goto("/playground")
    page.get_by_label("Compare side by side").check()
    columns = page.locator("[data-column]")
    expect(columns).to_have_count(2)
    columns.nth(0).locator("[data-params-details] > summary").click()  # the first column's parameters unfolded
    page.get_by_label("User message").fill("Hello there")
    page.get_by_role("button", name="Run all").click()

    results = page.locator("[data-result]")
    for index in range(2):
        expect(results.nth(index).locator("[data-status]")).to_have_text("ok", timeout=15_000)
        expect(results.nth(index).locator("[data-tokens]")).to_have_text(re.compile(r"Tokens \d+ in · \d+ out"))
        expect(results.nth(index).locator("[data-rate]")).to_have_text(re.compile(r"^\d+\.\d tokens/s$"))
        expect(results.nth(index).locator("[data-latency]")).to_have_text(re.compile(r"^Latency \d"))
        expect(results.nth(index).locator("[data-ttft]")).to_have_text(re.compile(r"^First token \d+(\.\d+)? m?s$"))
        rate_title = results.nth(index).locator("[data-rate]").get_attribute("title")
        assert "latency − time to first token" in rate_title
    first, second = (results.nth(index).bounding_box() for index in range(2))
    assert first["x"] < second["x"]
    assert abs(first["y"] - second["y"]) < 1, (first, second)
    # Each figure at the same height in both columns, once the page has settled (the last answer's figures and
    # panels are drawn after its status reads "ok": on a loaded machine a frame or two later).
    deadline = time.monotonic() + 3
    while True:
        misaligned = []
        for figure in ("ttft", "rate", "tokens", "latency"):
            left, right = (results.nth(i).locator(f'[data-figure="{figure}"]').bounding_box() for i in range(2))
            if abs(left["y"] - right["y"]) >= 1:
                misaligned.append((figure, left, right))
        if not misaligned or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert not misaligned, misaligned
    # The figures are the run's: TTFT under the latency, and the rate over the writing window only.
    run = Run.objects.get(pk=results.nth(0).get_attribute("data-run-id"))
    assert 0 < run.time_to_first_token_ms < run.latency_ms
    tokens = run.usage["completion_tokens"]
    expected_rate = tokens / ((run.latency_ms - run.time_to_first_token_ms) / 1000)
    expect(results.nth(0).locator("[data-rate]")).to_have_text(f"{expected_rate:.1f} tokens/s")
    for index, box in enumerate((first, second)):  # each column's parts keep their own rows: nothing overlaps
        run_button = columns.nth(index).get_by_role("button", name="Run", exact=True).bounding_box()
        assert run_button["y"] + run_button["height"] <= box["y"], (run_button, box)
    screenshot(page, "playground-compare", full_page=False)


def test_a_column_compares_a_saved_prompt_version_against_the_shared_messages(
    page, live_server, celery_worker, openai_server, org
):
    from prompts.services import prompt_create

    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    french = [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Bonjour {{name}}"}]
    prompt_create(organization=org, user=admin, name="greeting", messages=french)
    log_in(page, "ada")
    page.goto("/playground")
    page.get_by_label("Compare side by side").check()
    page.get_by_label("User message").fill("Hello there")
    second = page.locator("[data-column]").nth(1)
    second.get_by_label("Messages").select_option(label="greeting · v1")
    page.get_by_role("button", name="Run all").click()
    # The version's {{name}} needs a value: the variables panel asks for it.
    expect(page.locator("[data-variable=name] [data-error]")).to_contain_text("Give this variable a value")
    page.locator("[data-variable=name] input").fill("Ada")
    page.get_by_role("button", name="Run all").click()

    results = page.locator("[data-result]")
    expect(results.nth(0).locator("[data-output]")).to_have_text("echo: Hello there", timeout=15_000)
    expect(results.nth(1).locator("[data-output]")).to_have_text("echo: Bonjour Ada", timeout=15_000)
    expect(results.nth(1).locator("[data-run-prompt]")).to_have_text("From greeting v1")
    expect(results.nth(0).locator("[data-run-prompt]")).to_have_text("")
    sent = sorted((request.json["messages"] for request in openai_server.completion_requests), key=len)
    assert sent[0] == [{"role": "user", "content": "Hello there"}]
    assert sent[1] == [french[0], {"role": "user", "content": "Bonjour Ada"}]
    first, other = (results.nth(index).bounding_box() for index in range(2))
    assert abs(first["y"] - other["y"]) < 1
    run_button = page.locator("[data-column]").nth(0).get_by_role("button", name="Run", exact=True).bounding_box()
    assert run_button["y"] + run_button["height"] <= first["y"]
    screenshot(page, "playground-compare-prompts", full_page=False)

    # Reopened from the history, each column runs its own messages again.
    page.reload()
    page.locator("#history [data-run-id]").first.click()
    columns = page.locator("[data-column]")
    expect(columns).to_have_count(2)
    expect(columns.nth(0).get_by_label("Messages")).to_have_value("")
    expect(columns.nth(1).get_by_label("Messages")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    expect(page.locator("[data-variable=name] input")).to_have_value("Ada")


def test_an_answer_not_streamed_has_no_time_to_first_token_and_says_what_its_rate_is(
    page, live_server, celery_worker, openai_server, org
):
    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    log_in(page, "ada")
    page.goto("/playground")
    page.get_by_label("Stream the answer as it is written").uncheck()
    page.get_by_label("User message").fill("Hello there")
    page.get_by_role("button", name="Run", exact=True).click()

    result = page.locator("[data-result]")
    expect(result.locator("[data-status]")).to_have_text("ok", timeout=15_000)
    expect(result.locator("[data-rate]")).to_have_text(re.compile(r"^\d+\.\d tokens/s$"))
    expect(result.locator("[data-ttft]")).to_have_text("")
    assert "the wait for the first token is included" in result.locator("[data-rate]").get_attribute("title")
    assert Run.objects.get().time_to_first_token_ms is None
