"""In Chromium with a real worker: an answer with no place to break a line (base64, a hash, a
token, a data: URL) must wrap or scroll inside its column. Today the column grows to the answer's width: at 1440 px
it is drawn over the Saved prompt and Messages cards, and at 400 px the page is thousands of px wide. (Minified
JSON holds: Chromium breaks it after "},".)"""

import base64
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration
from tests.fixtures.servers import Reply

pytestmark = [pytest.mark.browser, pytest.mark.worker]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# A model asked to encode a small file: 1,200 bytes as base64, one line with no break opportunity.
ANSWER = "Here it is: " + base64.b64encode(bytes(range(256)) * 4 + bytes(176)).decode()


@pytest.mark.parametrize("width", [1440, 400])
def test_a_long_unbroken_answer_stays_inside_its_column(page, live_server, celery_worker, openai_server, org, width):
    UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(organization=org, name="portkey", document=api_key_document(endpoint=openai_server.url))
    message = {"role": "assistant", "content": ANSWER}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    openai_server.enqueue(Reply(json={"id": "c1", "object": "chat.completion", "model": "m", "choices": [choice]}))
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "ada")
    page.goto("/playground")
    page.get_by_label("Stream the answer as it is written").uncheck()
    page.get_by_label("User message").fill("Encode the file as base64")
    page.get_by_role("button", name="Run", exact=True).click()
    result = page.locator("[data-result]").first
    expect(result).to_contain_text("Here it is: AAECAwQF", timeout=15_000)
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert sizes["scroll"] <= sizes["client"], sizes
    # The answer's column does not cover the Messages card beside it.
    column = page.locator("[data-result]").first.bounding_box()
    assert column["x"] + column["width"] <= sizes["client"] + 1, column
    name = "playground-long-answer" + ("" if width == 1440 else "-narrow")
    shutil.copy(screenshot(page, name), DOCS / f"{name}.png")
