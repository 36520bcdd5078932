"""Evaluations on a real Celery worker (Redis) against the test provider: completion, live progress, cancel, judges."""

import time

import pytest
from django.test import Client

from evaluations.models import EvaluationResult, JudgeRun, MetricScore
from evaluations.selectors import evaluation_progress
from evaluations.services.lifecycle import evaluation_cancel, evaluation_create
from evaluations.services.metrics import metric_create
from integrations.models import ModelProperty
from runners.models import Run
from runners.services import run_enqueue
from tests.evaluations.conftest import RUN_ID_HEADER, judge_reply, wait_for_evaluation
from tests.fixtures.worker import wait_for_run

pytestmark = [pytest.mark.worker, pytest.mark.slow]

PROMPT = [{"role": "user", "content": "{{question}}"}]


def start(org, admin_user, dataset, *, models=("model-a", "model-b"), metrics=()):
    return evaluation_create(
        organization=org,
        user=admin_user,
        name="Worker test",
        dataset=dataset.uuid,
        messages=PROMPT,
        models=[{"model": alias} for alias in models],
        metrics=[metric.uuid for metric in metrics],
    )


def executed_run_ids(server) -> set[str]:
    return {request.headers[RUN_ID_HEADER.lower()] for request in server.completion_requests}


def test_200_rows_on_2_models_complete_with_consistent_progress(
    celery_worker, openai_server, org, admin_user, provider, make_dataset
):
    openai_server.latency = 0.02
    dataset = make_dataset(200)
    started = time.monotonic()
    evaluation = start(org, admin_user, dataset)
    enqueue_seconds = time.monotonic() - started
    assert enqueue_seconds < 3

    seen = []

    def check(progress):
        # Every run is in exactly one state at every moment.
        assert progress.done + progress.failed + progress.queued + progress.running == progress.total == 400
        seen.append(progress)

    wait_for_evaluation(evaluation, timeout=90, on_poll=check)
    final = evaluation_progress(evaluation=evaluation)
    assert (final.done, final.failed, final.queued, final.running) == (400, 0, 0, 0)
    assert final.status == "completed" and final.seconds_left == 0 and final.rate > 0
    # Progress was observed while it ran, and it never went backwards.
    assert any(0 < p.finished < 400 for p in seen), [p.finished for p in seen]
    finished = [p.finished for p in seen]
    assert finished == sorted(finished)
    assert len(openai_server.completion_requests) == 400
    result = EvaluationResult.objects.select_related("run").get(
        evaluation=evaluation, row__index=7, model_alias="model-b"
    )
    assert result.run.output == "echo: What is 7 plus 7?"
    assert result.run.usage["total_tokens"] > 0 and result.run.latency_ms > 0


def test_cancel_stops_the_rest_and_no_cancelled_run_is_executed(
    celery_worker, openai_server, org, admin_user, provider, make_dataset
):
    openai_server.latency = 0.3
    dataset = make_dataset(150)
    evaluation = start(org, admin_user, dataset)
    deadline = time.monotonic() + 30
    while evaluation_progress(evaluation=evaluation).finished < 20:
        assert time.monotonic() < deadline, "no progress before cancelling"
        time.sleep(0.02)
    cancelled = evaluation_cancel(evaluation=evaluation)
    assert cancelled > 0
    wait_for_evaluation(evaluation, timeout=30)
    progress = evaluation_progress(evaluation=evaluation)
    assert progress.status == "cancelled"
    assert progress.cancelled == cancelled
    assert progress.done + progress.failed == progress.total == 300
    cancelled_ids = {
        str(pk) for pk in Run.objects.filter(job=evaluation.job, error_type="cancelled").values_list("pk", flat=True)
    }
    executed_ids = {
        str(pk) for pk in Run.objects.filter(job=evaluation.job, status="succeeded").values_list("pk", flat=True)
    }
    time.sleep(0.5)  # would a stray worker still reach the provider?
    requested = executed_run_ids(openai_server)
    assert not requested & cancelled_ids
    assert requested == executed_ids
    assert len(openai_server.completion_requests) == progress.done


def test_judge_scores_are_parsed_stored_and_averaged(
    celery_worker, openai_server, judge_server, org, admin_user, provider, judge_integration, make_dataset, make_metric
):
    dataset = make_dataset(6)
    metric = make_metric(judges=2)
    verdicts = [0.2, 0.8] * 6  # 6 rows x 1 model x 2 judges, in whatever order the judges ask
    judge_server.enqueue(*[judge_reply(score, f"reason {i}") for i, score in enumerate(verdicts)])
    evaluation = start(org, admin_user, dataset, models=("model-a",), metrics=[metric])
    wait_for_evaluation(evaluation, timeout=30)
    assert len(judge_server.completion_requests) == 12  # never enqueued twice
    scores = list(MetricScore.objects.filter(result__evaluation=evaluation))
    assert len(scores) == 6
    for score in scores:
        assert score.status == "scored" and not score.error
        assert len(score.judgements) == 2
        assert score.mean == pytest.approx(sum(j["score"] for j in score.judgements) / 2)
    assert sorted(j["score"] for s in scores for j in s.judgements) == sorted(verdicts)
    # The judge saw the row's question, the model's output and the expected answer.
    prompts = [r.json["messages"][1]["content"] for r in judge_server.completion_requests]
    assert any("Question: What is 3 plus 3?\nAnswer: echo: What is 3 plus 3?\nReference: 6" in p for p in prompts)


def test_an_unparsable_judge_answer_is_a_per_row_error_not_a_crash(
    celery_worker, openai_server, judge_server, org, admin_user, provider, judge_integration, make_dataset, make_metric
):
    dataset = make_dataset(4)
    metric = make_metric(judges=1)
    judge_server.enqueue(
        judge_reply(None, content="Great answer, 9/10!"),
        judge_reply(0.5),
        judge_reply(0.5),
        judge_reply(0.5),
    )
    evaluation = start(org, admin_user, dataset, models=("model-a",), metrics=[metric])
    wait_for_evaluation(evaluation, timeout=30)
    scores = list(MetricScore.objects.filter(result__evaluation=evaluation))
    failed = [s for s in scores if s.status == "failed"]
    assert len(failed) == 1 and len(scores) == 4
    assert failed[0].error == 'judge 1: The judge\'s answer is not JSON: "Great answer, 9/10!"'
    assert failed[0].mean is None
    assert all(s.mean == 0.5 for s in scores if s.status == "scored")
    evaluation.refresh_from_db()
    assert evaluation.status == "completed"


def test_a_playground_run_is_judged_by_a_custom_model(
    celery_worker, openai_server, judge_server, org, member_user, provider, judge_integration
):

    run = run_enqueue(
        model=ModelProperty.objects.get(alias="model-b"),
        user=member_user,
        messages=[{"role": "user", "content": "Name a colour."}],
    )
    wait_for_run(run.pk)
    metric = metric_create(
        organization=org, user=member_user, name="Tone", judge_model="Judge", judges=3, prompt="Rate: {{output}}"
    )
    judge_server.enqueue(judge_reply(0.9), judge_reply(0.6), judge_reply(0.3))
    client = Client()
    client.force_login(member_user)
    response = client.post(
        f"/evaluations/metrics/{metric.uuid}/scores", {"runs": [str(run.pk)]}, content_type="application/json"
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 15
    while True:
        (score,) = client.get(f"/evaluations/metrics/{metric.uuid}/scores?run={run.pk}").json()["scores"]
        if score["status"] != "pending":
            break
        assert time.monotonic() < deadline, score
        time.sleep(0.05)
    assert score["status"] == "scored" and score["mean"] == pytest.approx(0.6)
    assert len(judge_server.completion_requests) == 3
    assert judge_server.completion_requests[0].json["messages"][1]["content"] == "Rate: echo: Name a colour."


def test_judges_are_created_by_the_workers_as_outputs_finish(
    celery_worker,
    openai_server,
    judge_server,
    org,
    admin_user,
    provider,
    judge_integration,
    make_dataset,
    make_metric,
    monkeypatch,
):
    # No safety net and no reads that advance: only run_finished, on the worker, moves the evaluation on.
    monkeypatch.setattr("evaluations.services.lifecycle.evaluation_advance", lambda *, evaluation: False)
    openai_server.latency = 0.2
    judge_server.enqueue(*[judge_reply(0.5) for _ in range(100)])
    evaluation = start(org, admin_user, make_dataset(100), models=("model-a",), metrics=[make_metric()])
    seen = []

    def check(progress):
        seen.append((progress.finished, JudgeRun.objects.filter(score__result__evaluation=evaluation).count()))

    wait_for_evaluation(evaluation, timeout=60, on_poll=check)
    assert any(judges and outputs < 100 for outputs, judges in seen), seen  # judging began before outputs ended
    assert len(judge_server.completion_requests) == 100
    assert MetricScore.objects.filter(result__evaluation=evaluation, status="scored", mean=0.5).count() == 100
    assert evaluation.status == "completed"
