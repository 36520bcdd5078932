"""Reads never write: pages and API reads of an evaluation (progress, results, CSV) and of scores leave the
database as it was, whatever work is waiting for the workers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluations.models import EvaluationResult, JudgeRun, MetricScore
from evaluations.services.lifecycle import evaluation_create
from runners.models import Run
from tests.evaluations.conftest import finish, logged_in

WRITES = ("INSERT", "UPDATE", "DELETE")

PAGE_READS = (
    "/evaluations",
    "/evaluations/{id}",
    "/evaluations/{id}/progress",
    "/evaluations/{id}/results.csv",
    "/evaluations/metrics/{metric}/scores?run={run}",
)
API_READS = (
    "/api/v2/evaluations",
    "/api/v2/evaluations/{id}",
    "/api/v2/evaluations/{id}/results",
    "/api/v2/evaluations/{id}/results.csv",
    "/api/v2/evaluations/{id}/outputs/{run}",
    "/api/v2/evaluations/{id}/rerun",
    "/api/v2/metrics/{metric}/scores?run={run}",
)


def row_counts() -> tuple[int, ...]:
    return Run.objects.count(), JudgeRun.objects.count(), MetricScore.objects.filter(status="pending").count()


@pytest.fixture
def waiting_evaluation(org, member_user, provider, judge_integration, make_dataset, make_metric):
    """An evaluation whose outputs have all finished, and whose run_finished the workers have not handled yet."""
    metric = make_metric(judges=2)
    evaluation = evaluation_create(
        organization=org,
        user=member_user,
        name="Reads",
        dataset=make_dataset(3, user=member_user).uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=[{"model": "model-a"}],
        metrics=[metric.uuid],
    )
    finish(list(Run.objects.filter(job=evaluation.job)), output="4", announce=False)
    return evaluation, metric


@pytest.fixture
def judged_evaluation(waiting_evaluation):
    """The same, one step on: its judges exist and have answered, but no score is recorded yet."""
    evaluation, metric = waiting_evaluation
    first = EvaluationResult.objects.filter(evaluation=evaluation).first()
    finish([first.run], output="4")  # handled: creates its judges
    finish([judge.run for judge in JudgeRun.objects.all()], output='{"score": 1, "reason": "ok"}', announce=False)
    return evaluation, metric


def read_everything(client, paths, evaluation, metric) -> list[str]:
    run = EvaluationResult.objects.filter(evaluation=evaluation).first().run_id
    with CaptureQueriesContext(connection) as queries:
        for path in paths:
            response = client.get(path.format(id=evaluation.pk, metric=metric.uuid, run=run))
            assert response.status_code == 200, (path, response.status_code)
            b"".join(response.streaming_content) if response.streaming else response.content
    return [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith(WRITES)]


@pytest.mark.parametrize("state", ["waiting_evaluation", "judged_evaluation"])
def test_page_reads_write_nothing(request, state, member_user):
    evaluation, metric = request.getfixturevalue(state)
    before = row_counts()
    writes = read_everything(logged_in(member_user), PAGE_READS, evaluation, metric)
    assert writes == []
    assert row_counts() == before


@pytest.mark.parametrize("state", ["waiting_evaluation", "judged_evaluation"])
def test_api_reads_write_nothing(request, state, member_user):
    evaluation, metric = request.getfixturevalue(state)
    before = row_counts()
    # Signed in by session: an API key's last_used_at is bookkeeping of the key, not of the evaluation.
    writes = read_everything(logged_in(member_user), API_READS, evaluation, metric)
    assert writes == []
    assert row_counts() == before


def test_a_finished_output_gets_its_judges_and_a_finished_judge_its_score_when_announced(waiting_evaluation):
    evaluation, _ = waiting_evaluation
    outputs = [result.run for result in EvaluationResult.objects.filter(evaluation=evaluation).select_related("run")]
    finish(outputs[:1], output="4")
    assert JudgeRun.objects.count() == 2
    finish(outputs[:1], output="4")  # announced twice (a redelivery): nothing more
    assert JudgeRun.objects.count() == 2
    judges = [judge.run for judge in JudgeRun.objects.order_by("index")]
    finish(judges[:1], output='{"score": 1, "reason": "ok"}')
    assert MetricScore.objects.get().status == "pending"  # one judge is still out
    finish(judges[1:], output='{"score": 0.5, "reason": "ok"}')
    assert (MetricScore.objects.get().status, MetricScore.objects.get().mean) == ("scored", 0.75)
    finish(outputs[1:], output="4")
    for judge in JudgeRun.objects.exclude(run__in=judges).select_related("run"):
        finish([judge.run], output='{"score": 0, "reason": "no"}')
    evaluation.refresh_from_db()
    assert evaluation.status == "completed"
    assert MetricScore.objects.filter(status="scored").count() == 3
