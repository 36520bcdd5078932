"""An evaluation on a real Celery worker scored by code metrics and an LLM judge together; then compared."""

import pytest

from evaluations.comparison import comparison_get
from evaluations.models import MetricScore
from evaluations.services.lifecycle import evaluation_create
from evaluations.services.metrics import metric_create
from tests.evaluations.conftest import judge_reply, wait_for_evaluation

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_code_metrics_and_a_judge_score_the_same_outputs(
    celery_worker, openai_server, judge_server, org, admin_user, provider, judge_integration, make_dataset, make_metric
):
    dataset = make_dataset(4)
    judge = make_metric(judges=1)
    shape = metric_create(
        organization=org,
        user=admin_user,
        name="Echo shape",
        kind="code",
        code={"check": "regex", "reference": {"value": r"echo: What is (\d+) plus \1\?"}, "match": "full"},
    )
    exact = metric_create(
        organization=org,
        user=admin_user,
        name="Exact",
        kind="code",
        code={"check": "exact_match", "reference": {"column": "expected"}},
    )
    judge_server.enqueue(*[judge_reply(0.5) for _ in range(8)])
    evaluations = [
        evaluation_create(
            organization=org,
            user=admin_user,
            name=f"Worker {model}",
            dataset=dataset.uuid,
            messages=[{"role": "user", "content": "{{question}}"}],
            models=[{"model": model}],
            metrics=[judge.uuid, shape.uuid, exact.uuid],
        )
        for model in ("model-a", "model-b")
    ]
    assert evaluations[0].judges_per_output == 1  # code metrics make no judge runs
    for evaluation in evaluations:
        wait_for_evaluation(evaluation, timeout=60)
    assert len(judge_server.completion_requests) == 8  # one judge per output, none for the code metrics
    scores = MetricScore.objects.filter(result__evaluation__in=evaluations)
    assert scores.count() == 24 and not scores.exclude(status="scored").exists()
    assert set(scores.filter(metric=shape).values_list("mean", flat=True)) == {1.0}
    assert set(scores.filter(metric=exact).values_list("mean", flat=True)) == {0.0}
    assert set(scores.filter(metric=judge).values_list("mean", flat=True)) == {0.5}
    assert not scores.filter(metric__in=[shape, exact], judge_runs__isnull=False).exists()

    comparison = comparison_get(organization=org, ids=[str(e.pk) for e in evaluations])
    by_name = {item.metric.name: item.columns[1].change for item in comparison.stats}
    assert by_name["Echo shape"].n == 4 and by_name["Echo shape"].mean == 0
    assert (by_name["Echo shape"].low, by_name["Echo shape"].high) == (0, 0)
    assert by_name["Exact"].same == 4
