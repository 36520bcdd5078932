"""In Chromium: upload a dataset, run an evaluation on two models with a judge metric, see results and charts."""

import pytest
from playwright.sync_api import expect

from evaluations.models import Evaluation
from tests.browser.conftest import browser, log_in, page, screenshot  # noqa: F401 (fixtures)
from tests.evaluations.conftest import csv_text, judge_reply

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]

ROWS = 12


def test_upload_a_dataset_run_an_evaluation_and_see_results_and_charts(
    page,  # noqa: F811
    live_server,
    celery_worker,
    openai_server,
    judge_server,
    admin_user,
    provider,
    judge_integration,
    make_metric,
):
    openai_server.latency = 0.05
    make_metric(judges=1, name="Correctness")
    judge_server.enqueue(*[judge_reply(round(0.1 + (i % 9) * 0.1, 1), f"Reason {i}") for i in range(ROWS * 2)])
    log_in(page, admin_user.username)

    page.goto("/evaluations/datasets")
    page.get_by_label("Name", exact=True).fill("Arithmetic")
    page.get_by_label("Dataset file").set_input_files(
        files=[{"name": "arithmetic.csv", "mimeType": "text/csv", "buffer": csv_text(ROWS).encode()}]
    )
    page.get_by_role("button", name="Upload dataset").click()
    expect(page.get_by_role("heading", name="Arithmetic", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=f"Preview: the first {ROWS} rows")).to_be_visible()
    expect(page.get_by_role("cell", name="What is 3 plus 3?")).to_be_visible()

    page.get_by_role("link", name="Evaluate with this dataset").click()
    expect(page.get_by_text("Variables: {{question}}, {{expected}}")).to_be_visible()
    page.get_by_label("Evaluation name").fill("Arithmetic on two models")
    page.get_by_label("Prompt", exact=True).fill("Answer with a number: {{question}}")
    page.get_by_label("model-a", exact=True).check()
    page.get_by_label("model-b", exact=True).check()
    page.get_by_label("Parameters for model-a (JSON)").fill('{"temperature": 0}')
    page.get_by_label("Correctness").check()
    page.get_by_role("button", name="Run evaluation").click()

    expect(page.get_by_role("heading", name="Arithmetic on two models")).to_be_visible()
    # The page polls its progress and reloads itself when the evaluation is done.
    expect(page.locator("#eval-status")).to_have_text("completed", timeout=45_000)
    expect(page.locator("#progress-text")).to_contain_text(f"{ROWS * 2} done")
    table = page.get_by_role("table", name="Rows by models")
    expect(table.get_by_role("cell", name="echo: Answer with a number: What is 12 plus 12?").first).to_be_visible()
    expect(page.locator("svg.chart-score")).to_have_count(2)
    expect(page.locator("svg.chart-latency")).to_have_count(2)
    expect(page.get_by_role("img", name="Correctness: score distribution").first).to_be_visible()

    # Sort by model-a's score, highest first, from the column header.
    page.get_by_role("link", name="Correctness (model-a)").click()
    page.get_by_role("link", name="Correctness (model-a)").click()
    expect(page.get_by_role("columnheader", name="Correctness (model-a)")).to_have_attribute("aria-sort", "descending")

    evaluation = Evaluation.objects.get()
    assert evaluation.status == "completed"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    assert download_info.value.suggested_filename == f"evaluation-{evaluation.pk}.csv"

    path = screenshot(page, "evaluation")
    assert path.exists()
