"""In Chromium: an edit of an integration that renames a model a metric judges with lists what it would break and
saves only through "Save anyway"."""

import pytest
from playwright.sync_api import expect

from evaluations.selectors import metrics_judge_missing
from tests.browser.conftest import browser, log_in, page  # noqa: F401 (fixtures)
from tests.evaluations.test_lifecycle_browser import shots

pytestmark = [pytest.mark.browser]


def test_renaming_a_judge_model_on_the_edit_page_asks_first(
    page,  # noqa: F811
    live_server,
    org,
    admin_user,
    judge_integration,
    make_metric,
):
    metric = make_metric(name="Correctness")
    log_in(page, admin_user.username)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/settings/integrations/custom/judges/edit")
    editor = page.get_by_label("Integration JSON")
    editor.fill(editor.input_value().replace('"alias": "Judge"', '"alias": "Judge v2"'))
    page.get_by_role("button", name="Save changes").click()

    dependents = page.get_by_role("region", name="This edit breaks 1 thing that uses the models it renames or removes")
    expect(dependents).to_contain_text("Metric Correctness")
    expect(dependents.get_by_role("link", name="Correctness")).to_have_attribute(
        "href", f"/evaluations/metrics/{metric.uuid}/edit"
    )
    expect(page.get_by_role("alert")).to_contain_text("renames or removes the model “Judge”")
    assert metrics_judge_missing(organization=org, metrics=[metric]) == set()
    shots(page, "integration-edit-dependents")

    page.get_by_role("button", name="Save anyway and break 1 thing").click()
    expect(page.get_by_text("Updated integration “judges”")).to_be_visible()
    assert metrics_judge_missing(organization=org, metrics=[metric]) == {metric.uuid}
