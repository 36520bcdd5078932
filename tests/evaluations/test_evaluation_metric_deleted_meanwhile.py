"""Attack (attack2-s2): an unused metric deleted while an evaluation that names it is being created. The
evaluation's checks found the metric; the delete (metric_delete: nothing uses it yet) commits before the
evaluation links it; the link then breaks the foreign key and the creator gets a 500 (IntegrityError) rather than
the 422 at ["body", "metrics", 0] the same request gets a moment later. metric_delete's docstring says "one that
links after the lock fails on the foreign key": that failure reaches the user unhandled."""

import threading
import time

import pytest
from django.db import connection, connections

from evaluations.models import Evaluation, Metric
from evaluations.services import lifecycle
from evaluations.services.metrics import MetricInUse, metric_delete, metric_update
from tests.api.conftest import client_for


@pytest.mark.django_db(transaction=True)
def test_a_metric_deleted_while_an_evaluation_names_it_is_a_422_not_a_500(
    org, admin_user, provider, judge_integration, make_dataset, make_metric, monkeypatch
):
    dataset, metric = make_dataset(2), make_metric()
    resolved = lifecycle.metrics_resolve

    def resolve_then_deleted_elsewhere(**kwargs):
        found = resolved(**kwargs)
        # Another admin's delete lands here, between this request's checks and its INSERTs (it is allowed: no
        # evaluation uses the metric yet).
        metric_delete(metric=Metric.objects.get(pk=metric.pk))
        return found

    monkeypatch.setattr(lifecycle, "metrics_resolve", resolve_then_deleted_elsewhere)
    body = {
        "name": "Raced",
        "dataset": str(dataset.uuid),
        "messages": [{"role": "user", "content": "{{question}}"}],
        "models": [{"model": "model-a"}],
        "metrics": [str(metric.uuid)],
    }
    try:
        response = client_for(admin_user).post("/api/v2/evaluations", body, format="json")
        status, detail = response.status_code, response.json()
    except Exception as exc:  # the test client re-raises what the view raised: a 500 for the user
        status, detail = 500, repr(exc)[:300]
    assert status == 422, (status, detail)
    assert detail["detail"][0]["loc"] == ["body", "metrics", 0]
    assert not Evaluation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_metric_edited_while_an_evaluation_names_it_is_a_422_naming_the_current_version(
    org, admin_user, provider, judge_integration, make_dataset, make_metric, monkeypatch
):
    dataset, code, metric = make_dataset(2), make_metric(name="Brevity"), make_metric()
    resolved = lifecycle.metrics_resolve

    def resolve_then_edited_elsewhere(**kwargs):
        found = resolved(**kwargs)
        edited.append(metric_update(metric=Metric.objects.get(pk=metric.pk), user=admin_user, judges=2))
        return found

    edited: list = []
    monkeypatch.setattr(lifecycle, "metrics_resolve", resolve_then_edited_elsewhere)
    body = {
        "name": "Raced",
        "dataset": str(dataset.uuid),
        "messages": [{"role": "user", "content": "{{question}}"}],
        "models": [{"model": "model-a"}],
        "metrics": [str(code.uuid), str(metric.uuid).upper()],  # any spelling of the id finds its place
    }
    response = client_for(admin_user).post("/api/v2/evaluations", body, format="json")
    assert response.status_code == 422, response.json()
    (problem,) = response.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["body", "metrics", 1], "metric_replaced")
    assert str(edited[0].uuid) in problem["msg"]
    assert not Evaluation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_delete_after_the_evaluation_locked_its_metric_waits_and_is_refused(
    org, admin_user, provider, judge_integration, make_dataset, make_metric, monkeypatch
):
    """PostgreSQL: the evaluation holds its metrics (FOR SHARE) until it commits; a delete arriving then waits, and
    afterwards sees the evaluation that uses the metric."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; run with DATABASE_URL")
    dataset, metric = make_dataset(2), make_metric()
    locked, outcome = threading.Event(), []
    job_create = lifecycle.job_create

    def job_create_then_hold(**kwargs):  # runs inside the transaction, after the metrics' lock
        locked.set()
        time.sleep(0.5)  # the delete reaches the lock and waits
        return job_create(**kwargs)

    def delete() -> None:
        locked.wait(timeout=10)
        try:
            metric_delete(metric=Metric.objects.get(pk=metric.pk))
            outcome.append("deleted")
        except MetricInUse as exc:
            outcome.append(str(exc))
        finally:
            connections.close_all()

    monkeypatch.setattr(lifecycle, "job_create", job_create_then_hold)
    deleter = threading.Thread(target=delete)
    deleter.start()
    evaluation = lifecycle.evaluation_create(
        organization=org,
        user=admin_user,
        name="Holds",
        dataset=dataset.uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=[{"model": "model-a"}],
        metrics=[metric.uuid],
    )
    deleter.join()
    assert outcome and "“Holds”" in outcome[0] and "refers to it" in outcome[0], outcome
    assert list(evaluation.metrics.all()) == [Metric.objects.get(pk=metric.pk)]
