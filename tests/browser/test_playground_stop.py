"""Stop in the Playground, in Chromium with a real worker: a run streaming slowly from the test provider is stopped
mid-answer; the provider sees its connection closed, the page shows the run failed as `cancelled` with the words
received so far."""

import re

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from runners.models import Run
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration
from tests.fixtures.servers import EventStream

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def chunk(text: str) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}


def test_stop_abandons_a_streaming_run_and_keeps_its_partial_output(
    page, live_server, celery_worker, openai_server, org
):
    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    words = [chunk("Once" if i == 0 else f" w{i}") for i in range(200)]  # 40 s at 0.2 s a word
    openai_server.enqueue(EventStream([*words, "[DONE]"], delay=0.2))
    log_in(page, "ada")
    page.get_by_role("link", name="Playground").click()
    page.get_by_label("User message").fill("Tell me a long story")
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    page.get_by_role("button", name="Run", exact=True).click()

    result = page.locator("[data-result]").first
    expect(result.locator("[data-output]")).to_contain_text("Once w1 w2", timeout=15_000)
    page.get_by_role("button", name="Stop").click()

    expect(result.locator("[data-status]")).to_have_text("failed", timeout=5_000)
    expect(result.locator("[data-error-box]")).to_contain_text("cancelled: Stopped while the provider was answering.")
    expect(result.locator("[data-output]")).to_have_text(re.compile(r"^Once w1 w2"))
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    screenshot(page, "playground-stopped", full_page=False)

    (answer,) = openai_server.wait_for_closed_answers(1, timeout=3)
    assert answer.state == "disconnected"
    run = Run.objects.get()
    assert run.error_type == "cancelled"
    assert run.output.startswith("Once w1 w2")
    assert len(run.output.split(" ")) < 100
    # The history shows it failed too.
    expect(page.locator("#history .status").first).to_have_text("failed")
