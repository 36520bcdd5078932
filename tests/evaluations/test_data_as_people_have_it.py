"""Datasets as people export them and judges as models really answer (issue: evaluations at scale), through the
services against the real database; runs are finished by hand as a worker would, except where the request a judge
sends matters, which goes to the real test provider."""

import json

import pytest

from core.problems import Invalid
from evaluations.judging import VERDICT_RESPONSE_FORMAT
from evaluations.models import EvaluationResult, JudgeRun, MetricScore
from evaluations.results import evaluation_results
from evaluations.selectors import evaluation_progress
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
        'Q: What is 1+1? [math]\nA: 2\nWant: 2\nAll: {"tags":["math","easy"],"text":"What is 1+1?"}'
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


# Idempotent creation: a double submit or a retried POST makes one evaluation.


def create_body(dataset, **overrides):
    return {
        "dataset": str(dataset.uuid),
        "messages": [{"role": "user", "content": "{{question}}"}],
        "models": [{"model": "model-a"}],
        **overrides,
    }


def test_a_retried_post_with_the_same_idempotency_key_makes_one_evaluation(org, admin_user, integrations, make_dataset):
    from evaluations.models import Evaluation
    from tests.api.conftest import client_for

    api = client_for(admin_user)
    dataset = make_dataset(3)
    first = api.post("/api/v2/evaluations", create_body(dataset), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v2/evaluations", create_body(dataset), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Evaluation.objects.count() == 1 and Run.objects.count() == 3

    other = api.post(
        "/api/v2/evaluations", create_body(dataset, name="Other"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert other.json()["detail"][0]["type"] == "idempotency_conflict"
    bad = api.post("/api/v2/evaluations", create_body(dataset), format="json", HTTP_IDEMPOTENCY_KEY="a key")
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "idempotency_key"
    assert Evaluation.objects.count() == 1 and Run.objects.count() == 3

    # Keys are per organisation, and without a key every POST is a new evaluation.
    assert api.post("/api/v2/evaluations", create_body(dataset), format="json").status_code == 202
    assert Evaluation.objects.count() == 2


def test_a_double_submit_of_the_new_evaluation_form_makes_one_evaluation(org, admin_user, integrations, make_dataset):
    from evaluations.models import Evaluation
    from tests.evaluations.conftest import logged_in

    dataset = make_dataset(2)
    client = logged_in(admin_user)
    page = client.get("/evaluations/new").content.decode()
    key = page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    assert len(key) == 32
    form = {"idempotency_key": key, "dataset": str(dataset.uuid), "prompt": "{{question}}", "models": ["model-a"]}
    first, second = client.post("/evaluations/new", form), client.post("/evaluations/new", form)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Evaluation.objects.count() == 1
    # Back, change, submit again: a new evaluation, not a conflict.
    changed = client.post("/evaluations/new", {**form, "name": "Second try"})
    assert changed.status_code == 302 and changed["Location"] != first["Location"]
    assert Evaluation.objects.count() == 2


def test_a_judge_sees_the_tool_calls_of_an_answer_that_only_called_a_tool(org, admin_user, integrations, make_metric):
    dataset = dataset_create(
        organization=org, user=admin_user, name="Weather", text="question\nWeather in Paris?\n", format="csv"
    )
    metric = make_metric(prompt="Q: {{input}}\nA: {{output}}\nScore it.")
    evaluation = start(org, admin_user, dataset, QUESTION, metrics=[metric])
    (output,) = Run.objects.filter(job=evaluation.job)
    calls = [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]
    finish([output], output="", announce=False)
    Run.objects.filter(pk=output.pk).update(tool_calls=calls, finish_reason="tool_calls")
    evaluation_advance(evaluation=evaluation)
    (judge,) = Run.objects.filter(job=evaluation.judge_job)
    assert (
        judge.messages[1]["content"] == 'Q: Weather in Paris?\nA: Tool call: get_weather({"city":"Paris"})\nScore it.'
    )
