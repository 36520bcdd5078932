"""In Chromium: pick two evaluations from the list, read the per-metric change, filter the rows that got worse."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser, log_in, page, screenshot  # noqa: F401 (fixtures)
from tests.evaluations.test_comparison import BASELINE, CANDIDATE, scored_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_compare_two_evaluations_from_the_list(
    page,  # noqa: F811
    live_server,
    org,
    admin_user,
    provider,
    judge_integration,
    make_dataset,
    make_metric,
):
    dataset = make_dataset(5)
    metric = make_metric()
    scored_evaluation(org, admin_user, dataset, metric, BASELINE, name="Prompt v1")
    scored_evaluation(org, admin_user, dataset, metric, CANDIDATE, name="Prompt v2")
    log_in(page, admin_user.username)

    page.goto("/evaluations")
    page.get_by_role("link", name="Compare evaluations").click()
    # Oldest first in the picker: the earlier evaluation is the baseline, whatever the order of ticking.
    page.get_by_label("Prompt v2").check()
    page.get_by_label("Prompt v1").check()
    page.get_by_role("button", name="Compare selected").click()
    expect(page.get_by_role("heading", name="Compare evaluations", level=1)).to_be_visible()
    summary = page.locator("table.compare-summary")
    expect(summary.get_by_role("caption")).to_have_text("Correctness")
    # The worked example of test_comparison: v2 - v1 over rows 1-4.
    expect(summary).to_contain_text("0.100")
    expect(summary).to_contain_text("[-0.311, 0.511]")
    screenshot(page, "evaluations-compare")

    page.get_by_label("Show rows").select_option("worse")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("#compare-table tbody tr")
    expect(rows).to_have_count(1)
    expect(page.locator("#compare-count")).to_have_text("1 of 5 rows")
    expect(rows.first.locator("th")).to_have_text("4")
    expect(rows.first).to_contain_text("▼ worse")
    # The table scrolls inside its card: the page itself does not overflow at this width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("link", name="Prompt v1").first.click()
    page.get_by_role("link", name="Compare with…").click()
    expect(page.get_by_label("Prompt v1")).to_be_checked()
