"""In Chromium: saving a metric edit after someone else saved a version keeps what was typed and links the current
version. (A double click on Save metric is tested with two real concurrent requests in test_metric_name_races.py:
Chromium itself sends only one of a double click's two submits.)"""

import pytest
from playwright.sync_api import expect

from evaluations.models import Metric
from evaluations.services.metrics import metric_update
from organizations.models import Role
from tests.browser.conftest import browser, log_in, page, screenshot  # noqa: F401 (fixtures)
from tests.evaluations.test_lifecycle_browser import shots
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]

A_PROMPT = "Careful rubric written for ten minutes.\nAnswer: {{output}}\nScore 1 only if it cites the policy."


def test_an_edit_saved_after_someone_elses_keeps_the_text_and_links_the_current_version(
    page,  # noqa: F811
    live_server,
    org,
    admin_user,
    judge_integration,
    make_metric,
):
    v1 = make_metric()
    log_in(page, admin_user.username)
    page.goto(f"/evaluations/metrics/{v1.uuid}/edit")
    page.get_by_label("Judge prompt").fill(A_PROMPT)
    # Bea saves version 2 while Ada writes.
    v2 = metric_update(metric=v1, user=UserFactory(username="bea", organization=org, role=Role.ADMIN), judges=2)
    page.get_by_role("button", name="Save as version 2").click()

    notice = page.get_by_role("alert").filter(has_text="Changed by someone else meanwhile")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("version 2 was saved by bea")
    expect(page.get_by_label("Judge prompt")).to_have_value(A_PROMPT)
    shots(page, "evaluations-metric-edit-replaced")

    notice.get_by_role("link", name="open the current version (v2)").click()
    page.wait_for_url(f"**/evaluations/metrics/{v2.uuid}/edit")
    expect(page.get_by_label("No. of judges")).to_have_value("2")
    assert Metric.objects.get(replaced_at__isnull=True).pk == v2.pk
