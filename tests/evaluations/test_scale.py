"""Evaluations as data grows: counters against a recount, paged results, a summary from the database, the CSV
streamed, query counts that do not grow with rows, large evaluations made in the background, cheap listing."""

import csv
import io
import math
import time

import pytest

from evaluations.models import Evaluation, EvaluationCounters, EvaluationResult
from evaluations.results import evaluation_results
from evaluations.selectors import evaluation_progress, evaluation_progress_recount
from evaluations.services import lifecycle
from evaluations.services.lifecycle import (
    evaluation_advance,
    evaluation_cancel,
    evaluation_create,
    evaluation_create_once,
)
from evaluations.tasks import create_evaluation_runs
from integrations.encryption import EncryptedField
from runners.models import Run
from runners.signals import run_finished
from tests.api.conftest import client_for
from tests.evaluations.conftest import finish, judge_reply, logged_in, provider_document, wait_for_evaluation
from tests.factories import make_integration

PROMPT = [{"role": "user", "content": "Answer briefly: {{question}}"}]


@pytest.fixture
def member_api(member_user):
    return client_for(member_user)


@pytest.fixture
def integrations(provider, judge_integration):
    return provider, judge_integration


def start(org, user, dataset, *, models=("model-a", "model-b"), metrics=()):
    return evaluation_create(
        organization=org,
        user=user,
        name="Scale",
        dataset=dataset.uuid,
        messages=PROMPT,
        models=[{"model": alias} for alias in models],
        metrics=[metric.uuid for metric in metrics],
    )


def counters_of(evaluation) -> dict[str, int]:
    counters = EvaluationCounters.objects.get(pk=evaluation.pk)
    return {name: getattr(counters, name) for name in evaluation_progress_recount(evaluation=evaluation)}


def finished_evaluation(org, user, dataset, metric):
    """Every output finished (row 2 of model-b failed), every judge answered with a score by row number."""
    evaluation = start(org, user, dataset, metrics=[metric])
    runs = list(Run.objects.filter(job=evaluation.job).select_related("evaluation_result__row"))
    failed = [r for r in runs if r.model_alias == "model-b" and r.evaluation_result.row.index == 2]
    for run in runs:
        if run not in failed:
            finish([run], latency=10.0 * run.evaluation_result.row.index + (5 if run.model_alias == "model-b" else 0))
    finish(failed, status="failed", latency=None)
    judges = list(Run.objects.filter(job=evaluation.judge_job).select_related("judge_run__score__result__row"))
    for run in judges:
        index = run.judge_run.score.result.row.index
        finish([run], output=judge_reply((index % 10) / 10).json["choices"][0]["message"]["content"])
    evaluation_advance(evaluation=evaluation)
    evaluation.refresh_from_db()
    return evaluation


# Counters


def test_counters_match_a_recount_after_a_real_worker_batch_with_failures_cancels_and_judges(
    celery_worker, openai_server, judge_server, org, admin_user, provider, judge_integration, make_dataset, make_metric
):
    make_integration(
        organization=org,
        user=admin_user,
        name="failing",
        document=provider_document(openai_server.url, models=("status-400",), aliases=("broken",)),
    )
    openai_server.latency = 0.2
    replies = []
    for i in range(200):  # verdicts, answers that are no verdict, and judge runs that fail
        kind = i % 4
        if kind == 3:
            replies.append(judge_reply(None, content="I would say it is fine."))
        elif kind == 2 and i < 40:
            replies.append(type(judge_reply(0))(status=400, json={"error": {"message": "bad judge request"}}))
        else:
            replies.append(judge_reply(0.25 * kind))
    judge_server.enqueue(*replies)
    metric = make_metric(judges=2)
    judged = start(org, admin_user, make_dataset(30), models=("model-a", "broken"), metrics=[metric])
    wait_for_evaluation(judged, timeout=60)
    counted = counters_of(judged)
    assert counted == evaluation_progress_recount(evaluation=judged)
    assert (counted["outputs_succeeded"], counted["outputs_failed"], counted["judges_created"]) == (30, 30, 60)
    assert counted["judges_scored"] and counted["judges_unusable"] and counted["judges_run_failed"], counted

    cancelled = start(org, admin_user, make_dataset(100, name="Long"), models=("model-a", "broken"), metrics=[metric])
    polls = []
    while not polls or polls[-1].finished < 40:
        polls.append(evaluation_progress(evaluation=cancelled))
        assert len(polls) < 3000, polls[-1].as_dict()
        time.sleep(0.01)
    evaluation_cancel(evaluation=cancelled)
    wait_for_evaluation(cancelled, timeout=60)
    counted = counters_of(cancelled)
    assert counted == evaluation_progress_recount(evaluation=cancelled)
    progress = evaluation_progress(evaluation=cancelled)
    assert progress.status == "cancelled"
    assert progress.done + progress.failed == progress.total == 200 and progress.judges_waiting == 0
    assert counted["outputs_cancelled"] and counted["outputs_succeeded"] and counted["outputs_failed"], counted
    assert [p.finished for p in polls] == sorted(p.finished for p in polls)  # never went backwards


def test_a_finished_run_is_counted_once_however_often_it_is_announced(org, admin_user, integrations, make_dataset):
    evaluation = start(org, admin_user, make_dataset(3))
    runs = list(Run.objects.filter(job=evaluation.job))
    finish(runs[:2])
    finish(runs[2:3], status="failed")
    for run in runs[:3]:  # a signal delivered again, then the safety net, then a cancel's step
        run_finished.send(sender=Run, run_id=str(run.pk), status=run.status, job_id=str(evaluation.job_id))
    evaluation_advance(evaluation=evaluation)
    evaluation_cancel(evaluation=evaluation)
    evaluation_advance(evaluation=evaluation)
    assert counters_of(evaluation) == evaluation_progress_recount(evaluation=evaluation)
    progress = evaluation_progress(evaluation=evaluation)
    assert (progress.done, progress.failed, progress.cancelled) == (2, 4, 3)
    assert set(EvaluationResult.objects.values_list("counted_as", flat=True)) == {"succeeded", "failed", "cancelled"}


def test_a_run_finished_without_a_signal_is_counted_by_the_safety_net(org, admin_user, integrations, make_dataset):
    evaluation = start(org, admin_user, make_dataset(2))
    finish(list(Run.objects.filter(job=evaluation.job)), announce=False)
    assert evaluation_progress(evaluation=evaluation).done == 0  # nothing announced yet
    assert evaluation_advance(evaluation=evaluation) is True
    assert evaluation_progress(evaluation=evaluation).done == 4


# Results: paged, summary from the database


def linear_percentile(values, fraction):
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_the_summary_is_computed_by_the_database_and_matches_the_rows(
    org, admin_user, integrations, make_dataset, make_metric
):
    evaluation = finished_evaluation(org, admin_user, make_dataset(23), make_metric(judges=2))
    results = evaluation_results(evaluation=evaluation, page_size=5)
    assert len(results.rows) == 5 and results.page.paginator.count == 23
    model_a, model_b = results.summaries
    latencies_a = [10.0 * i for i in range(1, 24)]
    latencies_b = [10.0 * i + 5 for i in range(1, 24) if i != 2]
    assert (model_a.runs, model_a.succeeded, model_a.failed) == (23, 23, 0)
    assert (model_b.runs, model_b.succeeded, model_b.failed) == (23, 22, 1)
    assert model_a.latency_p50 == pytest.approx(linear_percentile(latencies_a, 0.5))
    assert model_a.latency_p95 == pytest.approx(linear_percentile(latencies_a, 0.95))
    assert model_b.latency_p95 == pytest.approx(linear_percentile(latencies_b, 0.95))
    assert model_a.total_tokens == 23 * 5 and model_b.prompt_tokens == 23 * 3  # failed runs' usage counts too
    assert sum(b.count for b in model_a.latency_bins) == 23 and model_a.latency_bins[-1].high == 250
    (metric_id,) = model_a.mean_scores
    scores_a = [(i % 10) / 10 for i in range(1, 24)]
    assert model_a.mean_scores[metric_id] == pytest.approx(sum(scores_a) / 23)
    assert model_a.scored[metric_id] == 23 and model_b.scored[metric_id] == 22
    assert [b.count for b in model_a.score_bins[metric_id]] == [
        sum(1 for s in scores_a if s == k / 10) for k in range(10)
    ]
    assert model_a.judge_outcomes[metric_id]["scored"] == 46


def test_sorting_happens_in_the_database_across_pages(org, admin_user, integrations, make_dataset, make_metric):
    evaluation = finished_evaluation(org, admin_user, make_dataset(12), make_metric())
    latency_desc = evaluation_results(evaluation=evaluation, sort="-latency:1", page=1, page_size=5)
    assert [row.index for row in latency_desc.rows] == [12, 11, 10, 9, 8]
    last = evaluation_results(evaluation=evaluation, sort="-latency:1", page=3, page_size=5)
    assert [row.index for row in last.rows] == [1, 2]  # row 2 failed on model-b: no latency, last
    metric_id = latency_desc.metrics[0].uuid
    by_score = evaluation_results(evaluation=evaluation, sort=f"score:{metric_id}:0", page_size=3)
    assert [row.index for row in by_score.rows] == [10, 1, 11]  # 0.0, 0.1, 0.1 (then by row)
    tokens = evaluation_results(evaluation=evaluation, sort="tokens:1", page=4, page_size=4)
    # Every output used 5 tokens: ties go by row. Past the last page is the last.
    assert tokens.page.number == 3 and [row.index for row in tokens.rows] == [9, 10, 11, 12]


def test_the_results_api_is_paged_with_links(member_api, org, member_user, integrations, make_dataset, make_metric):
    evaluation = finished_evaluation(org, member_user, make_dataset(7), make_metric())
    url = f"/api/v2/evaluations/{evaluation.pk}/results"
    body = member_api.get(f"{url}?page_size=3&sort=-row").json()
    assert (body["count"], body["page"], body["page_size"], body["pages"]) == (7, 1, 3, 3)
    assert [row["index"] for row in body["rows"]] == [7, 6, 5]
    assert body["previous"] is None and body["next"].endswith(f"{url}?page_size=3&sort=-row&page=2")
    assert body["aggregates"][1]["runs"] == 7  # over every row, not the page
    last = member_api.get(body["next"].replace("page=2", "page=3")).json()
    assert [row["index"] for row in last["rows"]] == [1] and last["next"] is None
    assert member_api.get(f"{url}?page_size=100000").json()["page_size"] == 500


def test_the_csv_is_streamed_in_the_sort_order_with_every_row(
    member_user, org, integrations, make_dataset, make_metric
):
    evaluation = finished_evaluation(org, member_user, make_dataset(9), make_metric())
    response = logged_in(member_user).get(f"/evaluations/{evaluation.pk}/results.csv?sort=-latency:0")
    assert response.streaming
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().removeprefix("\ufeff"))))
    assert len(lines) == 1 + 18
    assert [(line[0], line[3]) for line in lines[1:5]] == [
        ("9", "model-a"),
        ("9", "model-b"),
        ("8", "model-a"),
        ("8", "model-b"),
    ]
    header = lines[0]
    score = header.index("Correctness score")
    assert lines[1][score] == "0.9" and lines[1][header.index("Correctness reasons")] == "Looks right."


@pytest.mark.parametrize("rows", [4, 40])
def test_query_counts_do_not_grow_with_rows(
    rows, member_user, member_api, org, integrations, make_dataset, make_metric, django_assert_max_num_queries
):
    evaluation = finished_evaluation(org, member_user, make_dataset(rows), make_metric(judges=2))
    start(org, member_user, make_dataset(rows, name="Another"))  # a second, still running, on the list
    client = logged_in(member_user)
    with django_assert_max_num_queries(22):
        assert client.get(f"/evaluations/{evaluation.pk}?page=2").status_code == 200
    with django_assert_max_num_queries(18):
        assert member_api.get(f"/api/v2/evaluations/{evaluation.pk}/results?page_size=3").status_code == 200
    with django_assert_max_num_queries(8):
        response = client.get(f"/evaluations/{evaluation.pk}/results.csv")
        assert len(b"".join(response.streaming_content).splitlines()) == 1 + 2 * rows
    with django_assert_max_num_queries(8):
        assert client.get(f"/evaluations/{evaluation.pk}/progress").json()["done"] == 2 * rows - 1
    with django_assert_max_num_queries(8):
        assert client.get("/evaluations").status_code == 200
    with django_assert_max_num_queries(8):
        assert len(member_api.get("/api/v2/evaluations").json()) == 2


# Creating a large evaluation


@pytest.fixture
def inline_max(monkeypatch):
    monkeypatch.setattr(lifecycle, "INLINE_RUNS_MAX", 10)


def test_a_large_evaluation_answers_at_once_and_a_worker_makes_its_runs(
    inline_max, member_api, org, integrations, make_dataset, django_capture_on_commit_callbacks
):
    dataset = make_dataset(20)
    body = {"dataset": str(dataset.uuid), "messages": PROMPT, "models": [{"model": "model-a"}, {"model": "model-b"}]}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = member_api.post("/api/v2/evaluations", body, format="json", HTTP_IDEMPOTENCY_KEY="big-1")
    assert response.status_code == 202
    assert response.json()["status"] == "creating" and response.json()["total_runs"] == 40
    assert response.json()["progress"]["status"] == "creating" and response.json()["progress"]["queued"] == 0
    assert len(callbacks) == 1 and not Run.objects.exists()  # the task is sent once the request has committed
    evaluation_id = response.json()["id"]
    replay = member_api.post("/api/v2/evaluations", body, format="json", HTTP_IDEMPOTENCY_KEY="big-1")
    assert replay.json()["id"] == evaluation_id and replay.headers["Idempotent-Replayed"] == "true"
    with django_capture_on_commit_callbacks(execute=False):
        create_evaluation_runs(evaluation_id)  # as the worker runs it
        create_evaluation_runs(evaluation_id)  # delivered twice: nothing more
    assert Run.objects.filter(job__evaluation=evaluation_id).count() == 40
    assert EvaluationResult.objects.filter(evaluation_id=evaluation_id).count() == 40
    progress = member_api.get(f"/api/v2/evaluations/{evaluation_id}").json()["progress"]
    assert (progress["status"], progress["queued"]) == ("running", 40)
    assert Evaluation.objects.count() == 1


def test_a_large_evaluation_cancelled_while_creating_gets_no_runs(
    inline_max, org, admin_user, integrations, make_dataset
):
    evaluation = start(org, admin_user, make_dataset(20))
    assert evaluation.status == "creating"
    evaluation_cancel(evaluation=evaluation)
    create_evaluation_runs(str(evaluation.pk))
    evaluation.refresh_from_db()
    assert evaluation.status == "cancelled" and evaluation.finished_at and not Run.objects.exists()


def test_a_large_evaluation_runs_to_the_end_on_a_real_worker(
    inline_max, celery_worker, openai_server, org, admin_user, provider, make_dataset
):
    evaluation, created = evaluation_create_once(
        organization=org,
        user=admin_user,
        idempotency_key="worker-big",
        name="Big",
        dataset=make_dataset(30).uuid,
        messages=PROMPT,
        models=[{"model": "model-a"}, {"model": "model-b"}],
    )
    assert created and evaluation.status == "creating"
    statuses = set()
    wait_for_evaluation(evaluation, timeout=60, on_poll=lambda p: statuses.add(p.status))
    progress = evaluation_progress(evaluation=evaluation)
    assert (progress.status, progress.done, progress.total) == ("completed", 60, 60)
    assert counters_of(evaluation) == evaluation_progress_recount(evaluation=evaluation)


def test_checking_rows_reads_their_values_in_one_query_and_answers_missing_values_at_once(
    inline_max, org, admin_user, integrations, make_dataset, django_assert_max_num_queries
):
    text = "question,expected\n" + "".join(f"Q{n},{n}\n" for n in range(1, 200)) + ",200\n"
    dataset = make_dataset(text=text)
    with django_assert_max_num_queries(6), pytest.raises(lifecycle.Invalid) as raised:
        start(org, admin_user, dataset)
    assert [problem.loc for problem in raised.value.errors] == [("dataset", "rows", 200, "question")]
    assert not Evaluation.objects.exists()
    complete = make_dataset(200, name="Complete")
    with django_assert_max_num_queries(16):  # and 400 rows x models would take the same
        start(org, admin_user, complete)


# Lists that load only what they show


def test_integration_lists_never_decrypt_secrets(member_user, member_api, org, provider, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a list decrypted a secret")

    monkeypatch.setattr(EncryptedField, "from_db_value", refuse)
    listed = member_api.get("/api/v2/integrations")
    assert listed.status_code == 200 and [i["name"] for i in listed.json()] == ["provider"]
    assert "models" not in listed.json()[0]
    models = member_api.get("/api/v2/llm_integrations")
    assert [m["alias"] for m in models.json()[0]["models"]] == ["model-a", "model-b"]
    page = logged_in(member_user).get("/settings/integrations")
    assert page.status_code == 200 and b"model-b" in page.content


def test_the_page_of_an_evaluation_being_created_polls_and_says_so(
    inline_max, member_user, org, integrations, make_dataset
):
    evaluation = start(org, member_user, make_dataset(20))
    client = logged_in(member_user)
    html = client.get(f"/evaluations/{evaluation.pk}").content.decode()
    assert 'hx-trigger="every 1s"' in html and "Creating 40 runs…" in html
    polled = client.get(f"/evaluations/{evaluation.pk}/progress", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in polled.headers and "Creating 40 runs…" in polled.content.decode()
    create_evaluation_runs(str(evaluation.pk))
    polled = client.get(f"/evaluations/{evaluation.pk}/progress", headers={"HX-Request": "true"})
    assert "Creating" not in polled.content.decode() and "HX-Refresh" not in polled.headers


def test_judges_whose_model_was_deleted_count_as_run_failed_and_match_a_recount(
    org, admin_user, integrations, make_dataset, make_metric
):
    from integrations.services import integration_delete

    _, judge_integration = integrations
    evaluation = start(org, admin_user, make_dataset(3), metrics=[make_metric(judges=2)])
    runs = list(Run.objects.filter(job=evaluation.job).order_by("created_at"))
    finish(runs[:2])  # two outputs judged by the judge model while it exists
    integration_delete(integration=judge_integration, confirm=True)
    finish(runs[2:5])  # three more after the judge model was deleted
    finish(runs[5:], status="failed")
    judges = list(Run.objects.filter(job=evaluation.judge_job))
    assert len(judges) == 4
    finish(judges, output=judge_reply(1.0).json["choices"][0]["message"]["content"])
    evaluation_advance(evaluation=evaluation)

    counted = counters_of(evaluation)
    assert counted == evaluation_progress_recount(evaluation=evaluation)
    assert (counted["judges_created"], counted["judges_scored"], counted["judges_run_failed"]) == (10, 4, 6)
    progress = evaluation_progress(evaluation=evaluation)
    assert progress.judges_total == progress.judges_created == 10 and progress.judges_waiting == 0
    assert progress.as_dict()["judges"]["run_failed"] == 6
    evaluation.refresh_from_db()
    assert evaluation.finished_at is not None
