"""Metrics with a lifecycle: an edit makes a new version (scores and evaluations keep theirs), delete only when
unused (409 in the API with what uses it), and a clear state when the judge model is gone."""

import pytest

from core.problems import Invalid
from evaluations.models import EvaluationResult, Metric, MetricScore
from evaluations.selectors import metric_list, metric_usage, metrics_judge_missing
from evaluations.services.lifecycle import evaluation_advance, evaluation_create
from evaluations.services.metrics import MetricInUse, metric_create, metric_delete, metric_update
from integrations.services import integration_delete
from organizations.models import Role
from runners.models import Run
from tests.api.conftest import client_for
from tests.evaluations.conftest import finish
from tests.factories import UserFactory

PROMPT = [{"role": "user", "content": "Answer briefly: {{question}}"}]


@pytest.fixture
def integrations(provider, judge_integration):
    return provider, judge_integration


def start(org, user, dataset, metrics, name="Sums"):
    return evaluation_create(
        organization=org,
        user=user,
        name=name,
        dataset=dataset.uuid,
        messages=PROMPT,
        models=[{"model": "model-a"}],
        metrics=[metric.uuid for metric in metrics],
    )


def test_an_edit_makes_a_new_version_and_old_scores_keep_theirs(
    org, admin_user, integrations, make_dataset, make_metric
):
    dataset = make_dataset(1)
    v1 = make_metric(prompt="Old: {{output}}")
    evaluation = start(org, admin_user, dataset, [v1])
    finish([EvaluationResult.objects.get(evaluation=evaluation).run], output="2")
    evaluation_advance(evaluation=evaluation)

    v2 = metric_update(metric=v1, user=admin_user, prompt="New: {{output}}", judges=2)

    v1.refresh_from_db()
    assert (v2.version, v2.lineage, v2.name, v2.judges) == (2, v1.lineage, "Correctness", 2)
    assert v2.uuid != v1.uuid and v1.replaced_at is not None and v2.replaced_at is None
    assert (v1.prompt, v1.judges) == ("Old: {{output}}", 1)  # the old version is unchanged
    assert list(metric_list(organization=org)) == [v2]
    (score,) = MetricScore.objects.all()
    assert score.metric_id == v1.pk  # the score names what judged it
    assert list(evaluation.metrics.all()) == [v1]
    judge_run = Run.objects.get(job=evaluation.judge_job)
    assert judge_run.messages[-1]["content"].startswith("Old: 2")  # the running evaluation judges with v1
    # A new evaluation runs with v2.
    later = start(org, admin_user, dataset, [v2], name="Later")
    assert list(later.metrics.all()) == [v2]


def test_an_edit_that_changes_nothing_keeps_the_version(org, admin_user, integrations, make_metric):
    metric = make_metric()
    assert metric_update(metric=metric, user=admin_user, name="Correctness", judges=1) == metric
    assert Metric.objects.count() == 1


def test_an_edit_is_checked_like_a_new_metric_and_saves_nothing_when_invalid(
    org, admin_user, integrations, make_metric
):
    make_metric(name="Taken")
    metric = make_metric()
    with pytest.raises(Invalid) as caught:
        metric_update(metric=metric, user=admin_user, name="Taken", prompt="no output here", judges=11, kind="code")
    locs = sorted(error.loc for error in caught.value.errors)
    assert locs == [("kind",)]  # kind is refused before anything else
    with pytest.raises(Invalid) as caught:
        metric_update(metric=metric, user=admin_user, name="Taken", prompt="no output here", judges=11)
    assert sorted(error.loc for error in caught.value.errors) == [("judges",), ("name",), ("prompt",)]
    assert Metric.objects.count() == 2


def test_only_the_current_version_can_be_edited_or_start_an_evaluation(
    org, admin_user, integrations, make_dataset, make_metric
):
    v1 = make_metric()
    v2 = metric_update(metric=v1, user=admin_user, judges=2)
    v1.refresh_from_db()
    with pytest.raises(Invalid) as caught:
        metric_update(metric=v1, user=admin_user, judges=3)
    assert caught.value.errors[0].type == "replaced"
    with pytest.raises(Invalid) as caught:
        start(org, admin_user, make_dataset(1), [v1])
    (error,) = caught.value.errors
    assert error.type == "metric_replaced" and str(v2.uuid) in error.message


def test_a_renamed_metric_frees_its_old_name(org, admin_user, integrations, make_metric):
    metric = make_metric(name="Accuracy")
    metric_update(metric=metric, user=admin_user, name="Correctness")
    again = make_metric(name="Accuracy")
    assert again.version == 1 and again.lineage != metric.lineage


def test_delete_is_refused_while_an_evaluation_or_a_playground_score_uses_any_version(
    org, admin_user, integrations, make_dataset, make_metric
):
    v1 = make_metric()
    start(org, admin_user, make_dataset(1), [v1], name="Baseline run")
    v2 = metric_update(metric=v1, user=admin_user, judges=2)
    with pytest.raises(MetricInUse) as caught:
        metric_delete(metric=v2)
    assert "“Baseline run”" in str(caught.value) and "1 evaluation" in str(caught.value)
    assert [entry["name"] for entry in caught.value.usage["evaluations"]] == ["Baseline run"]
    assert caught.value.usage["evaluations"][0]["version"] == 1
    assert Metric.objects.count() == 2


def test_an_unused_metric_is_deleted_with_all_its_versions(org, admin_user, integrations, make_metric):
    v1 = make_metric()
    v2 = metric_update(metric=v1, user=admin_user, judges=2)
    metric_delete(metric=v2)
    assert not Metric.objects.exists()
    assert metric_usage(metric=v1) == {"evaluations": [], "scored_runs": 0}


def test_a_gone_judge_model_is_shown_and_refused_at_evaluation_start(
    org, admin_user, integrations, make_dataset, make_metric
):
    _provider, judges = integrations
    metric = make_metric()
    code = metric_create(organization=org, user=admin_user, name="Exact", kind="code", code={"check": "valid_json"})
    assert metrics_judge_missing(organization=org, metrics=[metric, code]) == set()
    integration_delete(integration=judges, confirm=True)
    assert metrics_judge_missing(organization=org, metrics=[metric, code]) == {metric.uuid}
    with pytest.raises(Invalid) as caught:
        start(org, admin_user, make_dataset(1), [metric])
    (error,) = caught.value.errors
    assert error.loc == ("metrics", 0) and error.type == "judge_model_missing"
    assert '"Judge" no longer exists' in error.message and "Edit the metric" in error.message


# The API


def test_api_patch_makes_a_version_and_get_reads_any_version(org, admin_user, integrations, make_metric):
    api = client_for(admin_user)
    v1 = make_metric()
    response = api.patch(f"/api/v2/metrics/{v1.uuid}", {"judges": 3}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["version"], body["judges"], body["current"], body["lineage"]) == (2, 3, True, str(v1.lineage))
    old = api.get(f"/api/v2/metrics/{v1.uuid}").json()
    assert (old["version"], old["judges"], old["current"]) == (1, 1, False)
    assert [m["id"] for m in api.get("/api/v2/metrics").json()] == [body["id"]]
    again = api.patch(f"/api/v2/metrics/{v1.uuid}", {"judges": 4}, format="json")
    assert again.status_code == 422 and again.json()["detail"][0]["loc"] == ["body", "metric"]
    bad = api.patch(f"/api/v2/metrics/{body['id']}", {"judges": 0, "prompt": "x"}, format="json")
    assert bad.status_code == 422
    assert sorted(p["loc"][-1] for p in bad.json()["detail"]) == ["judges", "prompt"]


def test_api_delete_answers_409_with_what_uses_it(org, admin_user, integrations, make_dataset, make_metric):
    api = client_for(admin_user)
    metric = make_metric()
    evaluation = start(org, admin_user, make_dataset(1), [metric], name="Baseline run")
    response = api.delete(f"/api/v2/metrics/{metric.uuid}")
    assert response.status_code == 409
    body = response.json()
    assert body["evaluations"] == [{"id": str(evaluation.pk), "name": "Baseline run", "version": 1}]
    assert "in use" in body["detail"]
    unused = make_metric(name="Unused")
    assert api.delete(f"/api/v2/metrics/{unused.uuid}").status_code == 204
    assert api.get(f"/api/v2/metrics/{unused.uuid}").status_code == 404


def test_api_edit_and_delete_are_for_admins_and_the_creator(org, admin_user, integrations, make_metric):
    metric = make_metric()
    member = UserFactory(username="mia", organization=org, role=Role.MEMBER)
    member_api = client_for(member)
    assert member_api.patch(f"/api/v2/metrics/{metric.uuid}", {"judges": 2}, format="json").status_code == 403
    assert member_api.delete(f"/api/v2/metrics/{metric.uuid}").status_code == 403
    own = metric_create(organization=org, user=member, name="Mine", judge_model="Judge", prompt="{{output}}", judges=1)
    mine_v2 = member_api.patch(f"/api/v2/metrics/{own.uuid}", {"judges": 2}, format="json").json()
    # An admin's edit makes v3; the member who made v1 may still edit and delete it.
    v3 = client_for(admin_user).patch(f"/api/v2/metrics/{mine_v2['id']}", {"judges": 3}, format="json").json()
    assert member_api.delete(f"/api/v2/metrics/{v3['id']}").status_code == 204


def test_api_list_shows_a_gone_judge_model(org, admin_user, integrations, make_metric):
    api = client_for(admin_user)
    make_metric()
    assert api.get("/api/v2/metrics").json()[0]["judge_model_missing"] is False
    integration_delete(integration=integrations[1], confirm=True)
    assert api.get("/api/v2/metrics").json()[0]["judge_model_missing"] is True
