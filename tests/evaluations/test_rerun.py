"""Re-running what failed in an evaluation, in place: failed outputs or failed judges get new runs, the earlier
attempts stay readable, the counters and the summary follow; the API operations and the output's detail."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from core.problems import Invalid
from evaluations import tasks
from evaluations.models import Evaluation, EvaluationCounters, EvaluationResult, JudgeRun, MetricScore, OutputAttempt
from evaluations.results import output_detail, results_summaries, results_summaries_cached
from evaluations.selectors import evaluation_progress, evaluation_progress_recount
from evaluations.services.lifecycle import evaluation_cancel, evaluation_create
from evaluations.services.rerun import RerunRefused, evaluation_rerun, evaluation_rerunnable
from integrations.models import ModelProperty
from runners.models import Run
from tests.api.conftest import client_for
from tests.evaluations.conftest import finish, judge_reply, wait_for_evaluation
from tests.fixtures.servers import Reply

PROMPT = [{"role": "user", "content": "Answer briefly: {{question}}"}]


def start(org, user, dataset, *, models=("model-a",), metrics=()):
    return evaluation_create(
        organization=org,
        user=user,
        name="Re-run",
        dataset=dataset.uuid,
        messages=PROMPT,
        models=[{"model": alias} for alias in models],
        metrics=[metric.uuid for metric in metrics],
    )


def counters_of(evaluation) -> dict[str, int]:
    counters = EvaluationCounters.objects.get(pk=evaluation.pk)
    return {name: getattr(counters, name) for name in evaluation_progress_recount(evaluation=evaluation)}


def verdict(score: float) -> str:
    return judge_reply(score).json["choices"][0]["message"]["content"]


def output_runs(evaluation) -> list[Run]:
    return [result.run for result in EvaluationResult.objects.filter(evaluation=evaluation).select_related("run")]


@pytest.fixture
def failed_outputs(org, admin_user, provider, make_dataset):
    """A finished evaluation of 3 rows on model-a whose row 3 failed."""
    evaluation = start(org, admin_user, make_dataset(3))
    runs = {r.row.index: r.run for r in EvaluationResult.objects.filter(evaluation=evaluation).select_related("row")}
    finish([runs[1], runs[2]])
    finish([runs[3]], status="failed")
    evaluation.refresh_from_db()
    assert evaluation.status == "completed"
    return evaluation


def test_failed_outputs_are_rerun_in_place_and_the_failed_attempt_stays_readable(failed_outputs):
    evaluation = failed_outputs
    failed = EvaluationResult.objects.select_related("run").get(evaluation=evaluation, row__index=3)
    old_run = failed.run
    assert evaluation_rerunnable(evaluation=evaluation).as_dict() == {"outputs": 1, "judges": 0, "reason": None}

    assert evaluation_rerun(evaluation=evaluation, scope="outputs") == 1

    assert evaluation.status == "running"
    failed.refresh_from_db()
    assert failed.run_id != old_run.pk and failed.attempt == 2 and failed.counted_as is None
    assert failed.run.status == "queued" and failed.run.job_id == evaluation.job_id
    assert failed.run.messages == old_run.messages  # the same row, sent again as it was
    attempt = OutputAttempt.objects.get(result=failed)
    assert (attempt.number, attempt.run_id) == (1, old_run.pk)
    old_run.refresh_from_db()
    assert old_run.status == "failed"  # kept as it was
    # The counters describe the current attempts: one output queued again, none failed.
    progress = evaluation_progress(evaluation=evaluation)
    assert (progress.done, progress.failed, progress.queued, progress.total) == (2, 0, 1, 3)
    assert counters_of(evaluation) == evaluation_progress_recount(evaluation=evaluation)
    # While it runs, a second re-run (a double submit) is refused and changes nothing.
    with pytest.raises(RerunRefused, match="still running"):
        evaluation_rerun(evaluation=evaluation, scope="outputs")
    assert Run.objects.filter(job=evaluation.job).count() == 4

    finish([failed.run])
    evaluation.refresh_from_db()
    assert evaluation.status == "completed"
    assert counters_of(evaluation) == evaluation_progress_recount(evaluation=evaluation)
    assert counters_of(evaluation)["outputs_succeeded"] == 3
    (summary,) = results_summaries(evaluation=evaluation, models=["model-a"], metrics=[])
    assert (summary.runs, summary.succeeded, summary.failed) == (3, 3, 0)
    # Both attempts are read through the output, by either run's id.
    for run_id in (failed.run_id, old_run.pk):
        detail = output_detail(evaluation=evaluation, run_id=run_id)
        assert detail["attempt"] == 2 and detail["run"]["id"] == str(failed.run_id)
        assert [(a["number"], a["run"]["id"], a["run"]["status"]) for a in detail["attempts"]] == [
            (1, str(old_run.pk), "failed")
        ]
    assert evaluation_rerunnable(evaluation=evaluation).reason == "Nothing failed: there is nothing to re-run."
    with pytest.raises(RerunRefused, match="No outputs failed"):
        evaluation_rerun(evaluation=evaluation, scope="outputs")


def test_a_running_or_cancelled_evaluation_or_an_unknown_scope_is_refused(org, admin_user, provider, make_dataset):
    running = start(org, admin_user, make_dataset(2))
    with pytest.raises(RerunRefused, match="still running"):
        evaluation_rerun(evaluation=running, scope="outputs")
    evaluation_cancel(evaluation=running)
    running.refresh_from_db()
    assert running.status == "cancelled"
    assert "cancelled" in evaluation_rerunnable(evaluation=running).reason
    with pytest.raises(RerunRefused, match="cancelled"):
        evaluation_rerun(evaluation=running, scope="outputs")
    with pytest.raises(Invalid) as raised:
        evaluation_rerun(evaluation=running, scope="everything")
    assert raised.value.errors[0].loc == ("scope",)


def test_a_rerun_whose_model_is_gone_changes_nothing(failed_outputs):
    evaluation = failed_outputs
    before = counters_of(evaluation)
    ModelProperty.objects.filter(alias="model-a").delete()
    with pytest.raises(Invalid) as raised:
        evaluation_rerun(evaluation=evaluation, scope="outputs")
    assert raised.value.errors[0].type == "unknown_model" and "model-a" in raised.value.errors[0].message
    evaluation.refresh_from_db()
    assert evaluation.status == "completed" and counters_of(evaluation) == before
    assert not OutputAttempt.objects.exists()


def test_failed_judges_are_rerun_and_the_scores_recorded_again_with_the_judges_kept(
    org, admin_user, provider, judge_integration, make_dataset, make_metric
):
    metric = make_metric(judges=2)
    evaluation = start(org, admin_user, make_dataset(2), metrics=[metric])
    finish(output_runs(evaluation))
    judge_runs = JudgeRun.objects.filter(score__result__evaluation=evaluation)
    judges = {
        (j.score.result.row.index, j.index): j.run for j in judge_runs.select_related("run", "score__result__row")
    }
    assert len(judges) == 4
    finish([judges[1, 0], judges[2, 0]], output=verdict(0.5))
    finish([judges[1, 1]], status="failed")  # the judge's provider failed
    finish([judges[2, 1]], output="I would say it is fine.")  # no verdict
    evaluation.refresh_from_db()
    assert evaluation.status == "completed"
    assert counters_of(evaluation)["judges_run_failed"] == counters_of(evaluation)["judges_unusable"] == 1
    assert evaluation_rerunnable(evaluation=evaluation).as_dict() == {"outputs": 0, "judges": 2, "reason": None}

    assert evaluation_rerun(evaluation=evaluation, scope="judges") == 2

    assert evaluation.status == "running"
    assert counters_of(evaluation) == evaluation_progress_recount(evaluation=evaluation)
    progress = evaluation_progress(evaluation=evaluation)
    assert (progress.judges_created, progress.judges_waiting, progress.judges_scored) == (4, 2, 2)
    assert (progress.judges_run_failed, progress.judges_unusable) == (0, 0)
    replaced = JudgeRun.objects.filter(score__result__evaluation=evaluation, superseded=True)
    assert {j.run_id for j in replaced} == {judges[1, 1].pk, judges[2, 1].pk}
    new = list(JudgeRun.objects.filter(score__result__evaluation=evaluation, attempt=2).select_related("run"))
    assert sorted(j.index for j in new) == [1, 1] and all(j.run.status == "queued" for j in new)
    assert set(MetricScore.objects.filter(result__evaluation=evaluation).values_list("status", flat=True)) == {
        "pending"
    }

    finish([j.run for j in new], output=verdict(1.0))
    evaluation.refresh_from_db()
    assert evaluation.status == "completed"
    counted = counters_of(evaluation)
    assert counted == evaluation_progress_recount(evaluation=evaluation)
    assert (counted["judges_created"], counted["judges_scored"], counted["judges_run_failed"]) == (4, 4, 0)
    for score in MetricScore.objects.filter(result__evaluation=evaluation):
        assert score.status == "scored" and score.mean == pytest.approx(0.75) and not score.error
        assert [j["score"] for j in score.judgements] == [0.5, 1.0]
    (summary,) = results_summaries(evaluation=evaluation, models=["model-a"], metrics=[metric])
    assert summary.mean_scores[metric.uuid] == pytest.approx(0.75)
    assert summary.judge_outcomes[metric.uuid] == {"scored": 4, "unusable": 0, "run_failed": 0, "cancelled": 0}
    # The replaced judge runs are still there, marked, in the output's detail.
    detail = output_detail(evaluation=evaluation, run_id=output_runs(evaluation)[0].pk)
    (score,) = detail["scores"]
    assert [(j["index"], j["attempt"], j["superseded"]) for j in score["judge_runs"]] == [
        (0, 1, False),
        (1, 1, True),
        (1, 2, False),
    ]


# API


def test_the_api_reports_starts_and_refuses_reruns(failed_outputs, admin_user, member_user, other_admin):
    evaluation = failed_outputs
    url = f"/api/v2/evaluations/{evaluation.pk}/rerun"
    member = client_for(member_user)
    assert member.get(url).json() == {"outputs": 1, "judges": 0, "reason": None}
    bad = member.post(url, {"scope": "rows"}, format="json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "scope"]
    assert client_for(other_admin).post(url, {"scope": "outputs"}, format="json").status_code == 404

    started = member.post(url, {"scope": "outputs"}, format="json")
    assert started.status_code == 202, started.content
    assert started.json()["started"] == 1 and started.json()["status"] == "running"
    again = member.post(url, {"scope": "outputs"}, format="json")  # a double submit
    assert again.status_code == 409 and "still running" in again.json()["detail"]
    assert member.get(url).json()["reason"].startswith("It is still running")
    assert OutputAttempt.objects.count() == 1


def test_an_output_reads_with_its_request_redacted_and_only_within_its_evaluation(
    failed_outputs, org, admin_user, other_admin, make_dataset
):
    evaluation = failed_outputs
    result = EvaluationResult.objects.select_related("run").get(evaluation=evaluation, row__index=1)
    Run.objects.filter(pk=result.run_id).update(
        request={"url": "http://x/chat/completions", "headers": {"x-api-key": "********"}, "json": {"model": "m"}}
    )
    client = client_for(admin_user)
    answer = client.get(f"/api/v2/evaluations/{evaluation.pk}/outputs/{result.run_id}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["row"] == {"index": 1, "values": {"question": "What is 1 plus 1?", "expected": "2"}}
    assert body["model"] == "model-a" and body["run"]["output"] == "fine" and body["attempts"] == []
    assert body["run"]["request"]["headers"]["x-api-key"] == "********"
    assert "sk-eval-test" not in answer.content.decode()
    other = start(org, admin_user, make_dataset(1, name="Other"))
    other_run = EvaluationResult.objects.get(evaluation=other).run_id
    assert client.get(f"/api/v2/evaluations/{evaluation.pk}/outputs/{other_run}").status_code == 404
    foreign = client_for(other_admin).get(f"/api/v2/evaluations/{evaluation.pk}/outputs/{result.run_id}")
    assert foreign.status_code == 404


# A real worker, a provider failing then answering


@pytest.mark.worker
@pytest.mark.slow
def test_a_real_worker_reruns_failed_outputs_then_failed_judges(
    celery_worker, openai_server, judge_server, org, admin_user, provider, judge_integration, make_dataset, make_metric
):
    failure = {"error": {"message": "The provider had a bad hour.", "type": "server_error"}}
    openai_server.enqueue(Reply(status=400, json=failure), Reply(status=400, json=failure))
    judge_server.enqueue(Reply(status=400, json=failure), *[judge_reply(0.5, "Half right.") for _ in range(10)])
    metric = make_metric(judges=1)
    evaluation = start(org, admin_user, make_dataset(4), metrics=[metric])
    wait_for_evaluation(evaluation, timeout=60)
    assert counters_of(evaluation) == evaluation_progress_recount(evaluation=evaluation)
    assert evaluation_rerunnable(evaluation=evaluation).as_dict() == {"outputs": 2, "judges": 1, "reason": None}
    (before,) = results_summaries_cached(evaluation=evaluation, models=["model-a"], metrics=[metric])  # now cached
    assert (before.succeeded, before.failed) == (2, 2)

    assert evaluation_rerun(evaluation=evaluation, scope="outputs") == 2
    wait_for_evaluation(evaluation, timeout=60)  # the provider answers now (no failure left in its queue)
    assert counters_of(evaluation) == evaluation_progress_recount(evaluation=evaluation)
    progress = evaluation_progress(evaluation=evaluation)
    assert (progress.done, progress.failed, progress.total) == (4, 0, 4)
    assert OutputAttempt.objects.filter(result__evaluation=evaluation, run__status="failed").count() == 2
    assert len(openai_server.completion_requests) == 6
    assert evaluation_rerunnable(evaluation=evaluation).as_dict() == {"outputs": 0, "judges": 1, "reason": None}

    assert evaluation_rerun(evaluation=evaluation, scope="judges") == 1
    wait_for_evaluation(evaluation, timeout=60)
    counted = counters_of(evaluation)
    assert counted == evaluation_progress_recount(evaluation=evaluation)
    assert (counted["judges_created"], counted["judges_scored"], counted["judges_run_failed"]) == (4, 4, 0)
    assert set(MetricScore.objects.filter(result__evaluation=evaluation).values_list("mean", flat=True)) == {0.5}
    # The page's cached summary follows (the counters moved).
    (summary,) = results_summaries_cached(evaluation=evaluation, models=["model-a"], metrics=[metric])
    assert (summary.succeeded, summary.failed, summary.mean_scores[metric.uuid]) == (4, 0, 0.5)
    assert summary.judge_outcomes[metric.uuid]["run_failed"] == 0
    assert JudgeRun.objects.filter(score__result__evaluation=evaluation, superseded=True).count() == 1
    assert len(judge_server.completion_requests) == 5
    # Each output reads with the request as the worker sent it, its key redacted; a re-run one with its failure.
    rerun = EvaluationResult.objects.filter(evaluation=evaluation, attempt=2).first()
    answer = client_for(admin_user).get(f"/api/v2/evaluations/{evaluation.pk}/outputs/{rerun.run_id}")
    detail = answer.json()
    assert detail["run"]["request"]["headers"]["x-api-key"] == "********"
    assert detail["run"]["status"] == "succeeded" and detail["attempts"][0]["run"]["status"] == "failed"
    assert "bad hour" in detail["attempts"][0]["run"]["error"]["message"]
    assert "sk-eval-test" not in answer.content.decode()


def test_the_safety_net_of_a_rerun_counts_its_day_from_the_rerun(
    failed_outputs, settings, monkeypatch, django_capture_on_commit_callbacks
):
    evaluation = failed_outputs
    Evaluation.objects.filter(pk=evaluation.pk).update(created_at=timezone.now() - timedelta(days=2))
    scheduled, later = [], []
    monkeypatch.setattr(tasks.dispatch_evaluation, "delay", lambda *args: scheduled.append(args))
    monkeypatch.setattr(tasks.advance_evaluation, "apply_async", lambda args, countdown: later.append(args))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_rerun(evaluation=evaluation, scope="outputs")
    ((evaluation_id, since),) = scheduled
    assert evaluation_id == str(evaluation.pk)
    assert timezone.now() - datetime.fromisoformat(since) < timedelta(minutes=1)
    tasks.advance_evaluation(evaluation_id)  # counted from the creation, two days ago: it gives up
    assert later == []
    tasks.advance_evaluation(evaluation_id, since)  # counted from the re-run: it comes back
    assert later == [(evaluation_id, since)]


@pytest.mark.worker
@pytest.mark.slow
def test_two_reruns_at_once_start_one(celery_worker, openai_server, org, admin_user, provider, make_dataset):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT ... FOR UPDATE) need PostgreSQL; run with DATABASE_URL")
    openai_server.enqueue(Reply(status=400, json={"error": {"message": "The provider had a bad hour."}}))
    evaluation = start(org, admin_user, make_dataset(3))
    wait_for_evaluation(evaluation, timeout=60)
    openai_server.latency = 0.5  # the re-run is still running when the second request has been answered
    barrier = threading.Barrier(2)
    outcomes: list = []

    def rerun() -> None:
        try:
            barrier.wait()
            outcomes.append(evaluation_rerun(evaluation=Evaluation.objects.get(pk=evaluation.pk), scope="outputs"))
        except RerunRefused as exc:
            outcomes.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rerun) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["1", "It is still running; re-run what failed once it has finished."]
    wait_for_evaluation(evaluation, timeout=60)
    assert OutputAttempt.objects.filter(result__evaluation=evaluation).count() == 1
    assert counters_of(evaluation) == evaluation_progress_recount(evaluation=evaluation)
    assert evaluation_progress(evaluation=evaluation).done == 3
