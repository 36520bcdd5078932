"""In Chromium: upload a dataset, run an evaluation on two models with a judge metric, see results and charts."""

import pytest
from django.db import transaction
from playwright.sync_api import expect

from evaluations.models import Evaluation
from evaluations.services.lifecycle import evaluation_create
from runners.models import Run
from tests.browser.conftest import browser, log_in, page, requests_to, screenshot  # noqa: F401 (fixtures)
from tests.evaluations.conftest import csv_text, finish, judge_reply

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
    expect(page.get_by_role("heading", name=f"Rows 1–{ROWS} of {ROWS}")).to_be_visible()
    expect(page.get_by_role("cell", name="What is 3 plus 3?")).to_be_visible()

    page.get_by_role("link", name="Evaluate with this dataset").click()
    expect(page.get_by_text("Variables: {{question}}, {{expected}}")).to_be_visible()
    page.get_by_label("Evaluation name").fill("Arithmetic on two models")
    page.get_by_label("Prompt", exact=True).fill("Answer with a number: {{question}}")
    page.get_by_label("model-a", exact=True).check()
    page.get_by_label("model-b", exact=True).check()
    page.get_by_role("group", name="Parameters for model-a").get_by_label("Temperature", exact=True).fill("0")
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


def test_evaluation_progress_updates_live_then_the_page_reloads_when_it_completes(
    page,  # noqa: F811
    live_server,
    admin_user,
    org,
    provider,
    make_dataset,
):
    dataset = make_dataset(3, user=admin_user)
    with transaction.atomic():
        evaluation = evaluation_create(
            organization=org,
            user=admin_user,
            name="Live progress",
            dataset=dataset.uuid,
            messages=[{"role": "user", "content": "{{question}}"}],
            models=[{"model": "model-a"}, {"model": "model-b"}],
        )
        # Claimed before they are published, so that no worker (one may still be up) runs them: the test
        # stores their outcomes itself.
        Run.objects.filter(job=evaluation.job).update(status="running")
    log_in(page, admin_user.username)
    reads = requests_to(page, f"/evaluations/{evaluation.pk}/progress")
    page.goto(f"/evaluations/{evaluation.pk}")
    expect(page.locator("#progress")).to_have_attribute("hx-trigger", "every 1s")
    expect(page.locator("#progress-text")).to_contain_text("0 done")
    expect(page.locator("#progress-text")).to_contain_text("6 running")
    page.evaluate("window.notReloaded = true")

    finish(list(Run.objects.filter(job=evaluation.job, model_alias="model-a")), output="a's answer")
    expect(page.locator("#progress-text")).to_contain_text("3 done")
    expect(page.locator("#progress-bar")).to_have_attribute("value", "3")
    assert page.evaluate("window.notReloaded") is True  # updated in place
    assert any(read.headers.get("hx-request") == "true" for read in reads)

    finish(list(Run.objects.filter(job=evaluation.job, model_alias="model-b")), output="b's answer")
    assert Evaluation.objects.get(pk=evaluation.pk).status == "completed"
    expect(page.locator("#eval-status")).to_have_text("completed")  # HX-Refresh: the whole page again
    assert page.evaluate("window.notReloaded") is None
    expect(page.locator("#progress-text")).to_contain_text("6 done")
    expect(page.locator("#progress")).not_to_have_attribute("hx-trigger", "every 1s")
    expect(page.get_by_role("cell", name="b's answer").first).to_be_visible()
