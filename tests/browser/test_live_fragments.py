"""The pages' live parts are htmx polling server-rendered partials (the front-end convention, README "Front end"):
the connection Test's results update in place, then stop polling once done (an evaluation's progress:
tests/evaluations/test_browser.py). No worker: the test stores the runs' outcomes itself, as a worker would."""

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from runners.connection_test import integration_test_start
from runners.models import Run
from tests.browser.conftest import log_in, requests_to
from tests.factories import api_key_document, make_integration

pytestmark = [pytest.mark.browser]


def test_test_results_are_a_partial_that_htmx_refreshes_until_every_run_is_done(page, live_server, admin_user, org):
    integration = make_integration(
        organization=org, user=admin_user, name="portkey", document=api_key_document(endpoint="http://127.0.0.1:9/v1")
    )
    with transaction.atomic():
        job = integration_test_start(integration=integration, user=admin_user)
        # Claimed before they are published, so that no worker (one may still be up) runs them.
        job.runs.update(status="running")
    first, *others = sorted(job.runs.all(), key=lambda run: run.model_alias)
    log_in(page, admin_user.username)
    reads = requests_to(page, f"/tests/{job.pk}")
    page.goto(f"/settings/integrations/custom/portkey/tests/{job.pk}")
    results = page.locator("#test-results")
    expect(results).to_have_attribute("hx-trigger", "every 1s")
    expect(results).to_have_attribute("data-done", "false")

    now = timezone.now()
    request = {"url": "http://127.0.0.1:9/v1/chat/completions", "headers": {"x-portkey-api-key": "********"}}
    Run.objects.filter(pk=first.pk).update(
        status="succeeded", output="OK from the first", request=request, started_at=now, finished_at=now
    )
    item = page.locator(f'[data-model="{first.model_alias}"]')
    expect(item.locator(".output")).to_have_text("OK from the first")
    item.get_by_text("Request as sent").click()  # opened between two refreshes, it stays open across them
    page.wait_for_timeout(2_200)
    expect(item.locator("details")).to_have_attribute("open", "")

    Run.objects.filter(pk__in=[run.pk for run in others]).update(
        status="succeeded", output="OK", started_at=now, finished_at=now
    )
    expect(results).to_have_attribute("data-done", "true")
    expect(page.locator(".test-summary")).to_contain_text(f"All {len(others) + 1} models answered.")
    expect(results).not_to_have_attribute("hx-trigger", "every 1s")  # the finished fragment stops the polling
    expect(item.locator("details")).to_have_attribute("open", "")
    polls = [read for read in reads if read.headers.get("hx-request") == "true"]
    assert polls, "htmx did not poll the results"
    count = len(reads)
    page.wait_for_timeout(1_500)
    assert len(reads) == count, "polling went on after every run was done"
