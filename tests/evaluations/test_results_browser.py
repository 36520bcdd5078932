"""In Chromium: the results page at 1440 and 1024 px fits (no horizontal page scroll, chart captions inside their
charts, a readable question column), each cell opens its run in a dialog by keyboard and by a tap, and the re-run
button starts the failed outputs again."""

import pytest
from playwright.sync_api import expect

from evaluations.models import EvaluationResult
from evaluations.services.lifecycle import evaluation_create
from evaluations.services.metrics import metric_create
from runners.models import Run
from tests.browser.conftest import browser, log_in, page, screenshot  # noqa: F401 (fixtures)
from tests.evaluations.conftest import judge_reply, wait_for_evaluation
from tests.fixtures.servers import Reply

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]

QUESTION = (
    "A customer writes that the invoice they received last month lists a subscription they cancelled in March; "
    "they ask for a refund and an explanation of how the cancellation was recorded. What should the agent answer?"
)
METRIC = "Helpfulness of the answer to a billing question, judged against the reference reply"


@pytest.fixture
def finished(celery_worker, openai_server, judge_server, org, admin_user, provider, judge_integration, make_dataset):
    """An evaluation run by a real worker: 4 rows on 2 models, the first output request failing, 2 judges each."""
    rows = "\n".join(f'"{QUESTION} (case {n})",Refund case {n}' for n in range(1, 5))
    dataset = make_dataset(text=f"question,expected\n{rows}\n", name="Billing")
    metric = metric_create(
        organization=org, user=admin_user, name=METRIC, judge_model="Judge", judges=2,
        prompt="Question: {{input}}\nAnswer: {{output}}\nReference: {{expected}}\nScore it.",
    )  # fmt: skip
    openai_server.enqueue(Reply(status=400, json={"error": {"message": "The provider had a bad hour."}}))
    verdict = '<think>It names the date and the amount.</think>{"score": 0.5, "reason": "Polite, but no apology."}'
    judge_server.enqueue(*[judge_reply(None, content=verdict) for _ in range(14)])
    evaluation = evaluation_create(
        organization=org,
        user=admin_user,
        name="Billing answers",
        dataset=dataset.uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=[{"model": "model-a"}, {"model": "model-b"}],
        metrics=[metric.uuid],
    )
    wait_for_evaluation(evaluation, timeout=60)
    assert evaluation.status == "completed"
    return evaluation


def cell_name(result: EvaluationResult) -> str:
    return f"Row {result.row.index}, {result.model_alias}: open the run."


def assert_fits(shown):
    sizes = shown.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    # What sticks out, to say so when it fails.
    wide = shown.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 8)
            .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().width)}`)"""
    )
    assert sizes["scroll"] <= sizes["client"], (sizes, wide)
    outside = shown.evaluate(
        """() => [...document.querySelectorAll('figure.chart-figure')].flatMap((figure) => {
            const box = figure.getBoundingClientRect();
            const svg = figure.querySelector('svg').getBoundingClientRect();
            const parts = [...figure.querySelectorAll('figcaption'), ...figure.querySelectorAll('svg text')];
            return parts
              .map((part) => [part.textContent, part.getBoundingClientRect(), part.tagName === 'text' ? svg : box])
              .filter(([, r, c]) => r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.width === 0)
              .map(([text]) => text);
        })"""
    )
    assert outside == [], outside
    # The question column keeps a readable width (no word per line), its text clamped to a few lines.
    question = shown.locator("#results-table tbody td.value").first.bounding_box()
    assert question["width"] >= 140, question
    assert question["height"] < 120, question


@pytest.mark.parametrize("width", [1440, 1024, 400])
def test_the_results_page_fits_at_common_widths(page, live_server, admin_user, finished, width):  # noqa: F811
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, admin_user.username)
    page.goto(f"/evaluations/{finished.pk}")
    expect(page.locator("figcaption", has_text=f"{METRIC}: score distribution").first).to_be_visible()
    assert_fits(page)
    card = page.evaluate(
        "() => { const c = document.getElementById('results-table').parentElement;"
        " return {scroll: c.scrollWidth, client: c.clientWidth}; }"
    )
    if width == 1440:  # two models fit in the card; narrower, the card scrolls (never the page)
        assert card["scroll"] <= card["client"], card
    screenshot(page, f"evaluation-results-{width}")


def test_a_cell_opens_its_run_by_keyboard_and_closes_with_escape(page, live_server, admin_user, finished):  # noqa: F811
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, admin_user.username)
    page.goto(f"/evaluations/{finished.pk}")
    dialog = page.get_by_role("dialog")
    results = EvaluationResult.objects.filter(evaluation=finished).select_related("row", "run")
    succeeded = results.filter(run__status="succeeded").order_by("row__index", "model_alias").first()
    failed = results.get(run__status="failed")
    first = page.get_by_role("button", name=cell_name(succeeded))
    first.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name=f"Row {succeeded.row.index} · {succeeded.model_alias}")).to_be_visible()
    expect(dialog.get_by_role("heading", name="Response")).to_be_visible()
    expect(dialog.get_by_text(succeeded.run.output)).to_be_visible()
    expect(dialog.get_by_role("heading", name="Request (secrets redacted)")).to_be_visible()
    expect(dialog.get_by_role("heading", name="Messages as sent")).to_be_visible()
    expect(dialog.get_by_text("Judge 1: 0.50: Polite, but no apology.")).to_be_visible()
    expect(dialog.get_by_text("Judge 2: 0.50: Polite, but no apology.")).to_be_visible()
    dialog.get_by_text("Judge's reasoning").first.click()
    expect(dialog.get_by_text("It names the date and the amount.").first).to_be_visible()
    expect(dialog.get_by_text('"x-api-key": "********"')).to_be_visible()  # the request as the worker sent it
    assert "sk-eval-test" not in dialog.inner_text()
    path = screenshot(page, "evaluation-results-dialog", full_page=False)
    assert path.exists()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(first).to_be_focused()

    # A score cell opens the same run at its judges; a failed output shows its error.
    score_cell = f"Row {succeeded.row.index}, {succeeded.model_alias}, {METRIC}: open the judges' reasons."
    page.get_by_role("button", name=score_cell).click()
    expect(dialog.get_by_role("heading", name=f"{METRIC}: 0.50")).to_be_visible()
    page.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name=score_cell)).to_be_focused()
    page.get_by_role("button", name=cell_name(failed)).click()
    expect(dialog.get_by_role("heading", name="Error")).to_be_visible()
    expect(dialog.get_by_text("The provider had a bad hour.")).to_be_visible()


def test_the_rerun_button_counts_the_failures_and_starts_them_once(page, live_server, admin_user, finished):  # noqa: F811
    log_in(page, admin_user.username)
    page.goto(f"/evaluations/{finished.pk}")
    outputs = page.get_by_role("button", name="Re-run 1 failed output")
    expect(outputs).to_be_enabled()
    expect(page.get_by_role("button", name="Re-run 0 failed judges")).to_be_disabled()
    outputs.dblclick()  # a double submit starts it once
    expect(page.get_by_text("Re-running 1 failed output.")).to_be_visible()
    expect(page.locator("#eval-status")).to_have_text("running")
    expect(page.get_by_role("button", name="Re-run 0 failed outputs")).to_be_disabled()
    expect(page.get_by_text("It is still running")).to_be_visible()
    result = EvaluationResult.objects.get(evaluation=finished, attempt=2)
    assert result.attempts.get().run.status == "failed"
    wait_for_evaluation(finished, timeout=60)  # the worker runs it again; the provider answers now
    page.reload()
    expect(page.locator("#eval-status")).to_have_text("completed")
    expect(page.get_by_role("button", name="Re-run 0 failed outputs")).to_be_disabled()
    expect(page.get_by_text("attempt 2")).to_be_visible()
    page.get_by_role("button", name=cell_name(result)).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Earlier attempts")).to_be_visible()
    expect(dialog.get_by_text("The provider had a bad hour.")).to_be_visible()
    assert Run.objects.filter(job=finished.job).count() == 9


def test_a_tap_opens_a_cell_on_a_touch_screen(browser, live_server, admin_user, finished):  # noqa: F811
    context = browser.new_context(
        viewport={"width": 400, "height": 800}, has_touch=True, is_mobile=True, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    touch = context.new_page()
    errors = []
    touch.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(touch, admin_user.username)
        touch.goto(f"/evaluations/{finished.pk}")
        result = EvaluationResult.objects.filter(evaluation=finished, run__status="succeeded").select_related("row")[0]
        touch.get_by_role("button", name=cell_name(result)).tap()
        dialog = touch.get_by_role("dialog")
        expect(dialog.get_by_text("Judge 1: 0.50: Polite, but no apology.")).to_be_visible()
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 400, box
        touch.get_by_role("button", name="Close").tap()
        expect(dialog).to_be_hidden()
        touch.goto("about:blank")
    finally:
        context.close()
    assert errors == []
