"""In Chromium: what a model or a user writes without spaces must not push the results page or
its run dialog wider than the screen. A judge that quotes a URL in its reason, a model alias such as
"accounts/fireworks/models/llama-v3p1-405b-instruct" and an evaluation named after a file are ordinary input; the
page promises that its table card scrolls, never the page, and the dialog is meant to be read at 400 px."""

import pytest
from playwright.sync_api import expect

from evaluations.services.lifecycle import evaluation_create
from evaluations.services.metrics import metric_create
from tests.browser.conftest import browser, log_in, page  # noqa: F401 (fixtures)
from tests.evaluations.conftest import judge_reply, wait_for_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]

URL = "https://support.example.com/knowledge-base/billing/" + "refund-after-cancellation-" * 8 + "policy.html"
NAME = "support_bot_regression_set_2026_11_30_final_v2.csv"  # a dataset named after its file, as uploads are

OVERFLOW = """(selector) => {
  const box = document.querySelector(selector);
  const width = selector === 'html' ? document.documentElement.clientWidth : box.clientWidth;
  const edge = box.getBoundingClientRect().left + width;
  return {scroll: box.scrollWidth, client: width,
          wide: [...box.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > edge + 1)
            .slice(0, 6).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().width)}`)};
}"""


@pytest.fixture
def long_words(celery_worker, openai_server, judge_server, org, admin_user, provider, judge_integration, make_dataset):
    metric = metric_create(
        organization=org, user=admin_user, name="Cites the policy", judge_model="Judge", judges=1,
        prompt="Answer: {{output}}\nScore it.",
    )  # fmt: skip
    judge_server.enqueue(*[judge_reply(0.5, f"It should link {URL} instead.") for _ in range(4)])
    evaluation = evaluation_create(
        organization=org,
        user=admin_user,
        name=NAME,
        dataset=make_dataset(2).uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=[{"model": "model-a"}],
        metrics=[metric.uuid],
    )
    wait_for_evaluation(evaluation, timeout=60)
    assert evaluation.status == "completed"
    return evaluation


@pytest.mark.parametrize("width", [1440, 400])
def test_long_words_keep_the_results_page_and_its_dialog_within_the_screen(
    page,  # noqa: F811
    live_server,
    admin_user,
    long_words,
    width,
):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, admin_user.username)
    page.goto(f"/evaluations/{long_words.pk}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    problems = []
    sizes = page.evaluate(OVERFLOW, "html")
    if sizes["scroll"] > sizes["client"]:  # today: the h1 (the evaluation's name) widens the page
        problems.append(("page", sizes))

    page.get_by_role("button", name="Row 1, model-a: open the run.").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("It should link", exact=False)).to_be_visible()
    sizes = page.evaluate(OVERFLOW, "#run-dialog")
    if sizes["scroll"] > sizes["client"]:  # today: the judge's reason runs out of the dialog
        problems.append(("dialog", sizes))
    assert problems == []
