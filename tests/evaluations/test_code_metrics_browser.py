"""In Chromium: define a code check on the metrics page (a bad pattern first), score Playground answers with it on
a real worker, and see that a check reading a dataset column is offered only where a row can fill it."""

import re

import pytest
from playwright.sync_api import expect

from evaluations.models import Metric, MetricScore
from evaluations.services.metrics import metric_create
from tests.browser.conftest import browser, log_in, page, screenshot  # noqa: F401 (fixtures)
from tests.factories import api_key_document, make_integration

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]


def test_a_code_check_scores_playground_answers_without_a_judge(
    page,  # noqa: F811
    live_server,
    celery_worker,
    openai_server,
    org,
    admin_user,
):
    make_integration(
        organization=org, user=admin_user, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    metric_create(
        organization=org,
        user=admin_user,
        name="Exact",
        kind="code",
        code={"check": "exact_match", "reference": {"column": "expected"}},
    )
    log_in(page, admin_user.username)

    page.goto("/evaluations/metrics")
    form = page.locator("#code-metric-form")
    form.get_by_label("Check name").fill("Echoes")
    form.get_by_label("Check", exact=True).select_option("regex")
    form.get_by_label("Or a constant").fill("^echo: (")
    form.get_by_role("button", name="Save code check").click()
    expect(page.locator("#id_code-value_error")).to_contain_text("Not a valid regular expression")
    page.locator("#code-metric-form").get_by_label("Or a constant").fill("^echo: ")
    page.locator("#code-metric-form").get_by_role("button", name="Save code check").click()
    expect(page.get_by_role("status").first).to_contain_text("Echoes")
    expect(page.locator("table")).to_contain_text("Regular expression · ^echo:")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Playground").click()
    page.wait_for_load_state()  # the page's script listens to the select once it has run
    metric = page.get_by_label("Metric", exact=True)
    # A check that reads a dataset column cannot score a Playground answer: offered disabled, saying why.
    expect(metric.locator("option", has_text="Exact")).to_have_text("Exact (needs a dataset)")
    expect(metric.locator("option", has_text="Exact")).to_be_disabled()
    metric.select_option(label="Echoes")
    expect(page.locator("#metric-info")).to_have_text(re.compile(r"^Code check: Regular expression"))
    page.get_by_label("User message").fill("Name three primary colours.")
    page.get_by_role("button", name=re.compile(r"^Run")).first.click()
    column = page.locator("[data-column]").first
    expect(column.locator("[data-output]")).to_have_text("echo: Name three primary colours.", timeout=15_000)
    expect(column.locator("[data-score-value]")).to_have_text("1.00", timeout=15_000)
    expect(column.locator("[data-score-judges]")).to_have_text("code check")
    screenshot(page, "playground-code-metric", full_page=False)
    echoes = Metric.objects.get(name="Echoes")
    [score] = MetricScore.objects.filter(metric=echoes)
    assert score.mean == 1.0 and not score.judge_runs.exists()
