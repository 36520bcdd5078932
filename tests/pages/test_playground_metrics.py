"""The Playground's Metric select, and the scores endpoint its script calls (organisation scoping, CSRF)."""

import json

import pytest
from django.test import Client

from evaluations.models import JudgeRun, MetricScore
from evaluations.services.metrics import metric_create
from runners.models import Run, RunStatus
from tests.pages.test_playground_pages import page_data, start

pytestmark = pytest.mark.django_db


def _metric(org, user, name="Helpfulness", prompt="Rate this answer: {{output}}", judges=2):
    return metric_create(organization=org, user=user, name=name, judge_model="GPT 5.4", judges=judges, prompt=prompt)


def _succeeded_run(client) -> str:
    """A Playground run, marked succeeded as a worker would (no worker runs in these tests)."""
    run_id = start(client, columns=[{"model": "GPT 5.2"}]).json()["runs"][0]["id"]
    Run.objects.filter(pk=run_id).update(status=RunStatus.SUCCEEDED, output="Hi!")
    return run_id


def _scores_post(client, metric_id, runs):
    return client.post(
        f"/evaluations/metrics/{metric_id}/scores", json.dumps({"runs": runs}), content_type="application/json"
    )


def test_the_metric_select_lists_the_organisations_metrics_only(
    admin_client, org, admin_user, integration, other_org, other_admin, other_integration
):
    mine = _metric(org, admin_user)
    needs_row = _metric(org, admin_user, name="Exactness", prompt="Expected {{expected}}, got {{output}}")
    metric_create(
        organization=other_org, user=other_admin, name="Theirs", judge_model="Their Model", prompt="{{output}}"
    )
    response = admin_client.get("/playground")
    page = response.content.decode()
    assert '<label for="metric">Metric</label>' in page
    assert '<option value="" selected>None</option>' in page
    assert f'<option value="{mine.uuid}">Helpfulness</option>' in page
    # A metric that needs a dataset row's variables cannot judge a Playground answer.
    assert f'<option value="{needs_row.uuid}" disabled>Exactness (needs a dataset)</option>' in page
    assert "Theirs" not in page
    assert '<a href="/evaluations/metrics">Define a metric</a>' in page
    assert 'data-metrics-url="/evaluations/metrics/"' in page
    metrics = page_data(response)["metrics"]
    assert metrics == [
        {
            "id": str(needs_row.uuid),
            "name": "Exactness",
            "kind": "llm_judge",
            "judge_model": "GPT 5.4",
            "judges": 2,
            "check": None,
            "needs": ["expected"],
        },
        {
            "id": str(mine.uuid),
            "name": "Helpfulness",
            "kind": "llm_judge",
            "judge_model": "GPT 5.4",
            "judges": 2,
            "check": None,
            "needs": [],
        },
    ]
    # The new control keeps the existing labels unique.
    assert page.count(">Metric</label>") == 1 and page.count(">Score</button>") == 1
    assert page.count("<label data-model-label>Model</label>") == 1


def test_without_metrics_the_select_offers_none_and_the_way_to_define_one(admin_client, integration):
    page = admin_client.get("/playground").content.decode()
    assert "No metrics yet." in page and '<a href="/evaluations/metrics">Define a metric</a>' in page
    assert page_data(admin_client.get("/playground"))["metrics"] == []


def test_scoring_playground_columns_is_scoped_to_the_organisation(
    admin_client, org, admin_user, integration, other_admin, other_integration
):
    metric = _metric(org, admin_user)
    first, second = _succeeded_run(admin_client), _succeeded_run(admin_client)
    response = _scores_post(admin_client, metric.uuid, [first, second])
    assert response.status_code == 202
    scores = response.json()["scores"]
    assert [(s["run"], s["status"], s["metric_name"]) for s in scores] == [
        (first, "pending", "Helpfulness"),
        (second, "pending", "Helpfulness"),
    ]
    assert JudgeRun.objects.filter(score__scored_run_id=first).count() == 2  # the metric's number of judges
    polled = admin_client.get(f"/evaluations/metrics/{metric.uuid}/scores?run={second}").json()["scores"]
    assert [s["run"] for s in polled] == [second]

    theirs = Client()
    theirs.force_login(other_admin)
    # Another organisation's metric does not exist for them, whatever the run...
    assert _scores_post(theirs, metric.uuid, [first]).status_code == 404
    assert theirs.get(f"/evaluations/metrics/{metric.uuid}/scores?run={first}").status_code == 404
    # ...and with their own metric, our runs are not theirs to judge or read.
    their_metric = metric_create(
        organization=other_admin.membership.organization,
        user=other_admin,
        name="Theirs",
        judge_model="Their Model",
        prompt="{{output}}",
    )
    refused = _scores_post(theirs, their_metric.uuid, [first])
    assert refused.status_code == 422 and refused.json()["detail"][0]["msg"] == "No such run."
    assert theirs.get(f"/evaluations/metrics/{their_metric.uuid}/scores?run={first}").json() == {"scores": []}
    assert MetricScore.objects.filter(metric=their_metric).count() == 0


def test_a_column_that_has_not_succeeded_is_refused_per_run(admin_client, org, admin_user, integration):
    metric = _metric(org, admin_user)
    done = _succeeded_run(admin_client)
    queued = start(admin_client, columns=[{"model": "GPT 5.4"}]).json()["runs"][0]["id"]
    response = _scores_post(admin_client, metric.uuid, [done, queued])
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "runs", 1]  # the script shows it in the second column
    assert error["msg"] == "Only a succeeded run can be judged; this one is queued."
    assert not MetricScore.objects.exists()


def test_scoring_needs_login_and_csrf(client, org, admin_user, admin_client, integration):
    metric = _metric(org, admin_user)
    run_id = _succeeded_run(admin_client)
    assert _scores_post(client, metric.uuid, [run_id]).status_code == 302  # to the login page
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert _scores_post(strict, metric.uuid, [run_id]).status_code == 403
    assert not MetricScore.objects.exists()
    # With the token the page carries (App.fetchJSON sends it as X-CSRFToken), it goes through.
    strict.get("/playground")
    token = strict.cookies["csrftoken"].value
    response = strict.post(
        f"/evaluations/metrics/{metric.uuid}/scores",
        json.dumps({"runs": [run_id]}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 202
