"""Attack (attack2-s2): an unused metric deleted while an evaluation that names it is being created. The
evaluation's checks found the metric; the delete (metric_delete: nothing uses it yet) commits before the
evaluation links it; the link then breaks the foreign key and the creator gets a 500 (IntegrityError) rather than
the 422 at ["body", "metrics", 0] the same request gets a moment later. metric_delete's docstring says "one that
links after the lock fails on the foreign key": that failure reaches the user unhandled."""

import pytest

from evaluations.models import Evaluation, Metric
from evaluations.services import lifecycle
from evaluations.services.metrics import metric_delete
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
