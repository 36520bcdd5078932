"""Datasets as people export them and judges as models really answer (issue: evaluations at scale), through the
services against the real database; runs are finished by hand as a worker would, except where the request a judge
sends matters, which goes to the real test provider."""

import json

import pytest

from core.problems import Invalid
from evaluations.judging import VERDICT_RESPONSE_FORMAT
from evaluations.models import EvaluationResult, JudgeRun, MetricScore
from evaluations.selectors import evaluation_progress, evaluation_results
from evaluations.services.datasets import dataset_create
from evaluations.services.lifecycle import evaluation_advance, evaluation_create
from evaluations.services.metrics import metric_create
from runners.execution import run_execute
from runners.models import Run
from tests.evaluations.conftest import finish, judge_reply, provider_document
from tests.factories import make_integration

QUESTION = [{"role": "user", "content": "{{question}}"}]


@pytest.fixture
def integrations(provider, judge_integration):
    return provider, judge_integration


def start(org, user, dataset, messages, *, metrics=()):
    return evaluation_create(
        organization=org,
        user=user,
        name="Real data",
        dataset=dataset.uuid,
        messages=messages,
        models=["model-a"],
        metrics=[metric.uuid for metric in metrics],
    )


def test_an_empty_cell_only_matters_where_the_prompt_uses_its_column(org, admin_user, integrations):
    dataset = dataset_create(
        organization=org,
        user=admin_user,
        name="Sparse",
        text="question,expected,notes\nWhat is 1+1?,2,\nWhat is 2+2?,,checked\n",
        format="csv",
    )
    assert list(dataset.rows.order_by("index").values_list("values", flat=True)) == [
        {"question": "What is 1+1?", "expected": "2", "notes": ""},
        {"question": "What is 2+2?", "expected": "", "notes": "checked"},
    ]
    evaluation = start(org, admin_user, dataset, [{"role": "user", "content": "{{question}}"}])
    assert evaluation.total_runs == 2

    with pytest.raises(Invalid) as caught:
        start(org, admin_user, dataset, [{"role": "user", "content": "{{question}} (expect {{expected}})"}])
    assert [(error.loc, error.message) for error in caught.value.errors] == [
        (("dataset", "rows", 2, "expected"), "row 2: no value for {{expected}}.")
    ]


def test_nested_json_lines_values_fill_dotted_variables(org, admin_user, integrations, make_metric):
    lines = [
        {"q": {"text": "What is 1+1?", "tags": ["math", "easy"]}, "expected": 2},
        {"q": {"text": "Capital of France?", "tags": ["geo"]}, "expected": "Paris"},
    ]
    dataset = dataset_create(
        organization=org,
        user=admin_user,
        name="Nested",
        text="\n".join(json.dumps(line) for line in lines) + "\n",
        format="jsonl",
    )
    metric = make_metric(prompt="Q: {{q.text}} [{{q.tags.0}}]\nA: {{output}}\nWant: {{expected}}\nAll: {{q}}")
    evaluation = start(
        org, admin_user, dataset, [{"role": "user", "content": "{{q.text}} ({{q.tags.0}})"}], metrics=[metric]
    )
    first = EvaluationResult.objects.get(evaluation=evaluation, row__index=1).run
    assert first.messages == [{"role": "user", "content": "What is 1+1? (math)"}]
    finish([first], output="2")
    evaluation_advance(evaluation=evaluation)
    (judge,) = Run.objects.filter(job=evaluation.judge_job)
    assert judge.messages[1]["content"] == (
        'Q: What is 1+1? [math]\nA: 2\nWant: 2\nAll: {"text":"What is 1+1?","tags":["math","easy"]}'
    )

    with pytest.raises(Invalid) as caught:
        start(org, admin_user, dataset, [{"role": "user", "content": "{{q.tags.1}}"}])
    assert [error.loc for error in caught.value.errors] == [("dataset", "rows", 2, "q.tags.1")]
    with pytest.raises(Invalid) as caught:
        start(org, admin_user, dataset, [{"role": "user", "content": "{{answer.text}}"}])
    assert "has no such column" in caught.value.errors[0].message


def test_judge_answers_are_counted_by_what_happened(org, admin_user, integrations, make_dataset, make_metric):
    metric = make_metric(judges=4)
    evaluation = start(org, admin_user, make_dataset(1), QUESTION, metrics=[metric])
    (output,) = Run.objects.filter(job=evaluation.job)
    finish([output], output="2")
    evaluation_advance(evaluation=evaluation)
    judges = [judge_run.run for judge_run in JudgeRun.objects.filter(score__metric=metric).order_by("index")]
    finish(judges[:1], output='<think>\nIt says 2; that is right.\n</think>\n{"score": 1, "reason": "Right."}')
    finish(judges[1:2], output="I think the answer is good.")
    finish(judges[2:3], status="failed")

    progress = evaluation_progress(evaluation=evaluation)
    # Until all four judges of the score have answered, none is read: three finished, one queued, all waiting.
    assert (progress.judges_created, progress.judges_waiting, progress.judges_scored) == (4, 4, 0)

    finish(judges[3:], output='{"score": 0.5, "reason": "The answer is', finish_reason="length")
    evaluation_advance(evaluation=evaluation)
    progress = evaluation_progress(evaluation=evaluation)
    assert progress.as_dict()["judges"] == {
        "total": 4,
        "created": 4,
        "waiting": 0,
        "scored": 1,
        "unusable": 2,
        "run_failed": 1,
        "cancelled": 0,
    }
    score = MetricScore.objects.get(metric=metric)
    assert score.status == "scored" and score.mean == 1.0
    thought, prose, failed, cut = score.judgements
    assert thought == {"outcome": "scored", "score": 1.0, "reason": "Right.", "thinking": "It says 2; that is right."}
    assert prose["outcome"] == "unusable" and "is not JSON" in prose["error"]
    assert failed["outcome"] == "run_failed"
    assert cut["outcome"] == "unusable" and "cut off by its token limit" in cut["error"]

    (summary,) = evaluation_results(evaluation=evaluation).summaries
    assert summary.judge_outcomes[metric.uuid] == {"scored": 1, "unusable": 2, "run_failed": 1, "cancelled": 0}


def test_a_judge_model_that_supports_response_format_is_sent_the_verdict_schema(
    org, admin_user, provider, judge_server, make_dataset
):
    document = provider_document(judge_server.url, models=("judge-strict",), aliases=("Strict judge",))
    document["model_properties"][0]["supported_parameters"] = ["max_tokens", "temperature", "response_format"]
    make_integration(organization=org, user=admin_user, name="strict-judges", document=document)
    metric = metric_create(
        organization=org,
        user=admin_user,
        name="Strict",
        judge_model="Strict judge",
        judges=1,
        prompt="Q: {{input}}\nA: {{output}}\nScore it.",
    )
    evaluation = start(org, admin_user, make_dataset(1), QUESTION, metrics=[metric])
    (output,) = Run.objects.filter(job=evaluation.job)
    finish([output], output="2")
    evaluation_advance(evaluation=evaluation)
    (judge,) = Run.objects.filter(job=evaluation.judge_job)
    judge_server.enqueue(judge_reply(0.75, "Close."))
    run_execute(run_id=str(judge.pk))
    (request,) = judge_server.completion_requests
    assert request.json["response_format"] == VERDICT_RESPONSE_FORMAT
    evaluation_advance(evaluation=evaluation)
    assert MetricScore.objects.get(metric=metric).mean == 0.75
