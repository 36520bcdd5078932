"""In Chromium: define an LLM-as-judge metric whose judge is a custom model on its own provider, then score a
Playground comparison with it (picked before Run all: automatic; picked afterwards: the Score button), against a
real Celery worker."""

import json
import re

import pytest
from playwright.sync_api import expect

from evaluations.models import Metric, MetricScore
from evaluations.services.metrics import metric_create
from organizations.models import Role
from tests.browser.conftest import log_in, screenshot
from tests.evaluations.conftest import (  # noqa: F401 (fixtures)
    _judge_server_session,
    judge_reply,
    judge_server,
    provider_document,
)
from tests.factories import UserFactory, api_key_document, make_integration

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture
def admin(org):
    return UserFactory(username="ada", organization=org, role=Role.ADMIN)


def test_score_a_comparison_with_a_metric_judged_by_a_custom_model(
    page,
    live_server,
    celery_worker,
    openai_server,
    judge_server,  # noqa: F811 (the fixture imported above)
    admin,
    org,
):
    make_integration(
        organization=org, user=admin, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    # The judge is a model of a second integration, on a provider of its own: scripted verdicts reach judges only.
    make_integration(
        organization=org,
        user=admin,
        name="referees",
        document=provider_document(judge_server.url, models=("judge-1",), aliases=("Judge",)),
    )
    # A second metric on the same judge; with nothing scripted the provider echoes, which is not a verdict.
    metric_create(organization=org, user=admin, name="Strict", judge_model="Judge", prompt="Grade: {{output}}")
    judge_server.enqueue(*[judge_reply(0.8, "Clear, correct and to the point.") for _ in range(4)])
    log_in(page, "ada")

    # Define the metric from the Playground's link: two judges, the default judge prompt.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Playground").click()
    metric = page.get_by_label("Metric", exact=True)
    expect(metric).to_have_value("")
    expect(metric.locator("option")).to_have_text(["None", "Strict"])
    page.get_by_role("link", name="Define a metric").click()
    expect(page).to_have_url(re.compile(r"/evaluations/metrics$"))
    page.get_by_label("Metric name").fill("Helpfulness")
    page.get_by_label("Judge model").select_option("Judge")
    page.get_by_label("No. of judges").fill("2")
    page.get_by_role("button", name="Save metric").click()
    expect(page.get_by_role("status").first).to_contain_text("Helpfulness")

    # Compare two models with the metric picked before Run all: each column is judged as its answer succeeds.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Playground").click()
    page.get_by_label("Compare side by side").check()
    columns = page.locator("[data-column]")
    expect(columns).to_have_count(2)
    columns.nth(0).get_by_label("Model").select_option("GPT 5.2")
    columns.nth(1).get_by_label("Model").select_option("Opus 4.6")
    metric.select_option(label="Helpfulness")
    expect(page.locator("#metric-info")).to_have_text("Judged by Judge, 2 judges, averaged.")
    page.get_by_label("User message").fill("Name three primary colours.")
    page.get_by_role("button", name="Run all").click()
    for index in range(2):
        column = columns.nth(index)
        expect(column.locator("[data-output]")).to_have_text("echo: Name three primary colours.", timeout=15_000)
        expect(column.locator("[data-score-value]")).to_have_text("0.80", timeout=20_000)
        expect(column.locator("[data-score-name]")).to_have_text("Helpfulness")
        expect(column.locator("[data-score-judges]")).to_have_text("2 judges")
        expect(column.locator("[data-score-error]")).to_be_hidden()
        column.get_by_text("Reasons").click()
        expect(column.locator("[data-score-reason-list] li")).to_have_text(
            ["0.80 Clear, correct and to the point."] * 2
        )
    expect(page.get_by_role("button", name="Score")).to_be_hidden()  # nothing left to score
    path = screenshot(page, "playground-metric")
    assert path.exists()

    # (The prompt came from a browser textarea, so its line breaks are CRLF.)
    judged = {r.json["messages"][1]["content"].replace("\r\n", "\n") for r in judge_server.completion_requests}
    assert len(judge_server.completion_requests) == 4  # 2 columns x 2 judges, none to the models' provider
    assert all("The assistant's answer:\necho: Name three primary colours." in prompt for prompt in judged)
    assert not any("Score how correct" in json.dumps(r.json) for r in openai_server.completion_requests)
    helpfulness = Metric.objects.get(name="Helpfulness")
    assert sorted(s.mean for s in MetricScore.objects.filter(metric=helpfulness)) == [0.8, 0.8]

    # A metric picked after the runs: offered, not spent, until Score; an unusable verdict is a clear error.
    metric.select_option(label="Strict")
    expect(columns.nth(0).locator("[data-score-note]")).to_have_text("Not scored with this metric yet: press Score.")
    page.get_by_role("button", name="Score").click()
    for index in range(2):
        error = columns.nth(index).locator("[data-score-error]")
        expect(error).to_contain_text("Judge error: judge 1: The judge's answer is not JSON", timeout=20_000)
        expect(columns.nth(index).locator("[data-score-value]")).to_have_text("failed")
    assert len(judge_server.completion_requests) == 6
    screenshot(page, "playground-metric-error", full_page=False)

    # Back to the first metric: its scores are read again, not judged again; None hides the scores.
    metric.select_option(label="Helpfulness")
    expect(columns.nth(1).locator("[data-score-value]")).to_have_text("0.80")
    metric.select_option("")
    expect(page.locator("[data-score]:visible")).to_have_count(0)
    assert len(judge_server.completion_requests) == 6
