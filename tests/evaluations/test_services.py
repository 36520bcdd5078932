"""The evaluation services without a worker: runs are marked finished by hand, as a worker would."""

import time

import pytest
from django.utils import timezone

from core.problems import Invalid
from evaluations.models import EvaluationResult, JudgeRun, MetricScore
from evaluations.results import evaluation_results
from evaluations.selectors import evaluation_progress, run_scores_get
from evaluations.services.lifecycle import evaluation_advance, evaluation_cancel, evaluation_create
from evaluations.services.metrics import metric_create
from evaluations.services.scoring import run_scores_request
from integrations.models import ModelProperty
from runners.models import Run
from runners.services import run_enqueue
from tests.evaluations.conftest import finish

PROMPT = [{"role": "user", "content": "Answer briefly: {{question}}"}]


@pytest.fixture
def integrations(provider, judge_integration):
    return provider, judge_integration


def start(org, admin_user, dataset, *, models=("model-a", "model-b"), metrics=(), messages=PROMPT):
    return evaluation_create(
        organization=org,
        user=admin_user,
        name="Sums",
        dataset=dataset.uuid,
        messages=messages,
        models=[{"model": alias, "parameters": {"temperature": 0}} for alias in models],
        metrics=[metric.uuid for metric in metrics],
    )


def test_one_run_per_row_and_model_with_rendered_prompts(org, admin_user, integrations, make_dataset):
    dataset = make_dataset(3)
    evaluation = start(org, admin_user, dataset)
    runs = Run.objects.filter(job=evaluation.job).order_by("created_at")
    assert runs.count() == evaluation.total_runs == 6
    assert {run.model_alias for run in runs} == {"model-a", "model-b"}
    result = EvaluationResult.objects.get(evaluation=evaluation, row__index=2, model_alias="model-b")
    assert result.run.messages == [{"role": "user", "content": "Answer briefly: What is 2 plus 2?"}]
    assert result.run.parameters == {"temperature": 0}
    assert result.run.job.kind == "evaluation"
    assert all(run.status == "queued" for run in runs)


def test_a_prompt_variable_that_is_not_a_column_is_an_error_and_nothing_is_created(
    org, admin_user, integrations, make_dataset
):
    dataset = make_dataset(2)
    with pytest.raises(Invalid) as caught:
        start(org, admin_user, dataset, messages=[{"role": "user", "content": "{{question}} {{context}}"}])
    (error,) = caught.value.errors
    assert error.loc == ("messages",)
    assert "{{context}}" in error.message and "question, expected" in error.message
    assert not Run.objects.exists()


def test_a_row_without_a_value_is_a_per_row_error_before_anything_is_enqueued(
    org, admin_user, integrations, make_dataset
):
    dataset = make_dataset(3)
    dataset.rows.filter(index=2).update(values={"question": "", "expected": "4"})
    with pytest.raises(Invalid) as caught:
        start(org, admin_user, dataset)
    assert [(e.loc, e.message) for e in caught.value.errors] == [
        (("dataset", "rows", 2, "question"), "row 2: no value for {{question}}.")
    ]
    assert not Run.objects.exists()


def test_models_parameters_and_metrics_are_checked_with_paths(org, admin_user, integrations, make_dataset, other_org):
    dataset = make_dataset(1)
    with pytest.raises(Invalid) as caught:
        evaluation_create(
            organization=org,
            user=admin_user,
            dataset=dataset.uuid,
            messages=PROMPT,
            models=[{"model": "model-a", "parameters": {"temperature": 9}}, {"model": "nope"}, {"model": "model-a"}],
            metrics=[12345],
        )
    locs = [error.loc for error in caught.value.errors]
    assert ("models", 0, "parameters", "temperature") in locs
    assert ("models", 1, "model") in locs
    assert ("metrics", 0) in locs


def test_a_metric_using_a_variable_the_dataset_lacks_is_refused(org, admin_user, integrations, make_dataset):
    dataset = make_dataset(1, text="question\nWhat?\n")
    metric = metric_create(
        organization=org, user=admin_user, name="Ref", judge_model="Judge", prompt="{{output}} vs {{expected}}"
    )
    with pytest.raises(Invalid) as caught:
        start(org, admin_user, dataset, metrics=[metric])
    assert "{{expected}}" in caught.value.errors[0].message


def test_metric_validation(org, admin_user, integrations):
    with pytest.raises(Invalid) as caught:
        metric_create(organization=org, user=admin_user, name="", judge_model="nope", judges=0, prompt="No output here")
    assert [error.loc for error in caught.value.errors] == [("name",), ("judge_model",), ("judges",), ("prompt",)]


def test_a_200_row_2_model_batch_is_enqueued_quickly(org, admin_user, integrations, make_dataset):
    dataset = make_dataset(200)
    started = time.monotonic()
    evaluation = start(org, admin_user, dataset)
    elapsed = time.monotonic() - started
    assert Run.objects.filter(job=evaluation.job).count() == 400
    assert elapsed < 3, f"enqueueing 400 runs took {elapsed:.2f} s"


def test_progress_reads_counters_kept_as_runs_finish(
    org, admin_user, integrations, make_dataset, django_assert_num_queries
):
    dataset = make_dataset(5)
    evaluation = start(org, admin_user, dataset)
    runs = list(Run.objects.filter(job=evaluation.job).order_by("created_at"))
    finish(runs[:4])
    finish(runs[4:6], status="failed")
    Run.objects.filter(pk=runs[6].pk).update(status="running", started_at=timezone.now())
    with django_assert_num_queries(2):  # the counters, and the running runs (an index range)
        progress = evaluation_progress(evaluation=evaluation)
    assert (progress.done, progress.failed, progress.running, progress.queued, progress.total) == (4, 2, 1, 3, 10)
    assert progress.rate > 0 and progress.seconds_left > 0
    assert progress.status == "running"


def test_judges_are_enqueued_once_per_output_and_scores_averaged(
    org, admin_user, integrations, make_dataset, make_metric
):
    dataset = make_dataset(2)
    metric = make_metric(judges=3)
    evaluation = start(org, admin_user, dataset, models=("model-a",), metrics=[metric])
    row1 = EvaluationResult.objects.get(evaluation=evaluation, row__index=1).run
    row2 = EvaluationResult.objects.get(evaluation=evaluation, row__index=2).run
    finish([row1], output="2")
    evaluation_advance(evaluation=evaluation)
    evaluation_advance(evaluation=evaluation)  # a second step (or a concurrent one) adds nothing
    assert JudgeRun.objects.count() == 3
    judge_runs = list(Run.objects.filter(job=evaluation.judge_job))
    assert len(judge_runs) == 3
    judge_prompt = judge_runs[0].messages[1]["content"]
    assert judge_prompt == "Question: Answer briefly: What is 1 plus 1?\nAnswer: 2\nReference: 2\nScore it."
    for run, (score, reason) in zip(judge_runs, [(0.2, "a"), (0.5, "b"), (1, "c")], strict=True):
        finish([run], output=f'{{"score": {score}, "reason": "{reason}"}}')
    finish([row2], status="failed")
    assert evaluation_advance(evaluation=evaluation) is True
    (score,) = MetricScore.objects.all()
    assert score.status == "scored"
    assert score.mean == pytest.approx((0.2 + 0.5 + 1) / 3)
    assert sorted(j["score"] for j in score.judgements) == [0.2, 0.5, 1.0]
    evaluation.refresh_from_db()
    assert evaluation.status == "completed"


def test_an_unparsable_judge_answer_is_an_error_on_that_score(org, admin_user, integrations, make_dataset, make_metric):
    dataset = make_dataset(2)
    metric = make_metric(judges=2)
    evaluation = start(org, admin_user, dataset, models=("model-a",), metrics=[metric])
    finish(list(Run.objects.filter(job=evaluation.job)))
    evaluation_advance(evaluation=evaluation)
    judge_runs = list(
        JudgeRun.objects.select_related("score__result__row", "run").order_by("score__result__row__index", "index")
    )
    # Row 1: both judges answer garbage; row 2: one garbage, one valid.
    finish([judge_runs[0].run, judge_runs[1].run, judge_runs[2].run], output="I'd say it's great!")
    finish([judge_runs[3].run], output='```json\n{"score": 0.75, "reason": "ok"}\n```')
    assert evaluation_advance(evaluation=evaluation) is True
    row1, row2 = MetricScore.objects.order_by("result__row__index")
    assert row1.status == "failed" and row1.mean is None
    assert row1.error.startswith("judge 1: The judge's answer is not JSON")
    assert row2.status == "scored" and row2.mean == 0.75
    assert "judge 1: The judge's answer is not JSON" in row2.error


def test_cancel_fails_only_the_queued_runs(org, admin_user, integrations, make_dataset):
    dataset = make_dataset(4)
    evaluation = start(org, admin_user, dataset)
    runs = list(Run.objects.filter(job=evaluation.job).order_by("created_at"))
    finish(runs[:2])
    Run.objects.filter(pk=runs[2].pk).update(status="running", started_at=timezone.now())
    assert evaluation_cancel(evaluation=evaluation) == 5
    assert evaluation_cancel(evaluation=evaluation) == 0
    statuses = dict(Run.objects.filter(job=evaluation.job).values_list("pk", "status"))
    assert [statuses[run.pk] for run in runs[:3]] == ["succeeded", "succeeded", "running"]
    assert Run.objects.filter(job=evaluation.job, error_type="cancelled", status="failed").count() == 5
    progress = evaluation_progress(evaluation=evaluation)
    assert (progress.done, progress.failed, progress.cancelled, progress.running, progress.queued) == (2, 5, 5, 1, 0)
    assert progress.status == "cancelled"
    finish([runs[2]])
    assert evaluation_advance(evaluation=evaluation) is True


def test_results_sort_and_aggregate(org, admin_user, integrations, make_dataset, make_metric):
    dataset = make_dataset(3)
    evaluation = start(org, admin_user, dataset)
    for index, latency in ((1, 300.0), (2, 100.0), (3, 200.0)):
        run = EvaluationResult.objects.get(evaluation=evaluation, row__index=index, model_alias="model-b").run
        finish([run], latency=latency)
    a_runs = Run.objects.filter(job=evaluation.job, model_alias="model-a")
    finish(list(a_runs[:2]))
    finish(list(a_runs[2:]), status="failed")
    results = evaluation_results(evaluation=evaluation, sort="latency:1")
    assert [row.index for row in results.rows] == [2, 3, 1]
    assert [row.index for row in evaluation_results(evaluation=evaluation, sort="-latency:1").rows] == [1, 3, 2]
    assert evaluation_results(evaluation=evaluation, sort="bogus").sort == "row"
    summary_a, summary_b = results.summaries
    assert (summary_a.succeeded, summary_a.failed) == (2, 1)
    assert summary_b.latency_p50 == 200.0
    assert summary_b.latency_p95 == pytest.approx(290.0)
    assert summary_b.total_tokens == 15


def test_no_judges_are_enqueued_after_a_cancel(org, admin_user, integrations, make_dataset, make_metric):
    dataset = make_dataset(3)
    evaluation = start(org, admin_user, dataset, models=("model-a",), metrics=[make_metric(judges=2)])
    outputs = list(Run.objects.filter(job=evaluation.job))
    finish(outputs[:1], announce=False)  # its run_finished not handled yet when the cancel commits
    evaluation_cancel(evaluation=evaluation)
    assert evaluation_advance(evaluation=evaluation) is True
    assert not Run.objects.filter(job=evaluation.judge_job).exists()
    assert not MetricScore.objects.exists()
    evaluation.refresh_from_db()
    assert evaluation.status == "cancelled"


def test_any_succeeded_run_can_be_judged_once_per_metric(org, admin_user, integrations, make_metric):

    model = ModelProperty.objects.get(alias="model-a")
    run = run_enqueue(model=model, user=admin_user, messages=[{"role": "user", "content": "What is 2+2?"}])
    metric = metric_create(
        organization=org, user=admin_user, name="Plain", judge_model="Judge", judges=2, prompt="{{input}} -> {{output}}"
    )
    with pytest.raises(Invalid) as caught:
        run_scores_request(organization=org, user=admin_user, metric=metric, runs=[str(run.pk)])
    assert caught.value.errors[0].message == "Only a succeeded run can be judged; this one is queued."
    finish([run], output="4")
    (score,) = run_scores_request(organization=org, user=admin_user, metric=metric, runs=[str(run.pk)])
    assert run_scores_request(organization=org, user=admin_user, metric=metric, runs=[str(run.pk)]) == [score]
    judge_runs = [judge.run for judge in score.judge_runs.all()]
    assert len(judge_runs) == 2 and judge_runs[0].messages[1]["content"] == "What is 2+2? -> 4"
    finish(judge_runs[:1], output='{"score": 1, "reason": "right"}')
    assert run_scores_get(organization=org, runs=[run.pk])[0].status == "pending"
    finish(judge_runs[1:], output='{"score": 0.5, "reason": "terse"}')
    (score,) = run_scores_get(organization=org, runs=[run.pk])
    assert (score.status, score.mean) == ("scored", 0.75)
    # A metric that needs a dataset row cannot judge a bare run.
    with pytest.raises(Invalid) as caught:
        run_scores_request(organization=org, user=admin_user, metric=make_metric(), runs=[str(run.pk)])
    assert "{{expected}}" in caught.value.errors[0].message


def test_rows_without_values_are_listed_up_to_a_limit(org, admin_user, integrations, make_dataset):
    dataset = make_dataset(60)
    dataset.rows.update(values={"question": " ", "expected": "x"})
    with pytest.raises(Invalid) as caught:
        start(org, admin_user, dataset)
    errors = caught.value.errors
    assert len(errors) == 51
    assert errors[0].message == "row 1: no value for {{question}}."
    assert errors[-1].message == "… and 10 more row(s) without a value."
    assert not Run.objects.exists()
