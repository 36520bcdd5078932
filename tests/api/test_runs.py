"""Runs over HTTP: 202 and an enqueued id, body validation with paths, reads, the filtered cursor list."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from runners.models import Job, Run, RunStatus
from runners.services import job_create, run_enqueue
from tests.factories import api_key_document, make_integration

MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
HELLO = [{"role": "user", "content": "Hello"}]


def start(client, **overrides):
    body = {"integration": "custom", "model": "GPT 5.2", "messages": HELLO, **overrides}
    return client.post("/api/v2/runs", body, format="json")


@pytest.fixture
def enqueued(monkeypatch):
    """Run ids handed to the worker (the task's apply_async, called on commit)."""
    from runners import tasks

    ids = []
    monkeypatch.setattr(tasks.execute_run, "apply_async", lambda args, *rest, **options: ids.append(args[0]))
    return ids


def test_a_run_is_accepted_and_handed_to_a_worker_on_commit(
    member_client, member_user, integration, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = start(member_client, parameters={"temperature": 0.2, "max_tokens": 5})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["dropped_parameters"] == []
    assert response["Location"] == f"/api/v2/runs/{body['id']}"
    assert enqueued == [body["id"]]
    run = Run.objects.get(pk=body["id"])
    assert run.user == member_user
    assert run.parameters == {"temperature": 0.2, "max_tokens": 5}
    assert run.job.kind == Job.Kind.API
    assert str(run.job_id) == body["job"]


def test_parameters_the_model_does_not_support_are_accepted_and_reported_dropped(admin_client, integration):
    response = start(admin_client, parameters={"temperature": 1, "top_p": 0.5, "top_k": 3})
    assert response.status_code == 202
    assert response.json()["dropped_parameters"] == ["top_k", "top_p"]
    read = admin_client.get(f"/api/v2/runs/{response.json()['id']}").json()
    assert read["dropped_parameters"] == ["top_k", "top_p"]
    assert read["parameters"] == {"temperature": 1, "top_p": 0.5, "top_k": 3}


def test_stop_is_accepted_for_stop_sequences(admin_client, integration):
    response = start(admin_client, parameters={"stop": "END"})
    assert response.status_code == 202
    assert Run.objects.get(pk=response.json()["id"]).parameters == {"stop_sequences": ["END"]}


def test_stream_is_recorded(admin_client, integration):
    response = start(admin_client, stream=True)
    assert Run.objects.get(pk=response.json()["id"]).stream is True


@pytest.mark.parametrize(
    ("overrides", "loc", "kind"),
    [
        ({"integration": "nope"}, ["body", "integration"], "not_found"),
        ({"model": "nope"}, ["body", "model"], "not_found"),
        ({"parameters": {"temprature": 1}}, ["body", "parameters", "temprature"], "extra_forbidden"),
        ({"parameters": {"temperature": 3}}, ["body", "parameters", "temperature"], None),
        ({"parameters": {"max_tokens": "5"}}, ["body", "parameters", "max_tokens"], None),
        ({"parameters": [1]}, ["body", "parameters"], "dict_type"),
        ({"parameters": {"stop": "x", "stop_sequences": None}}, ["body", "parameters", "stop"], "invalid"),
        ({"messages": []}, ["body", "messages"], "list_type"),
        ({"messages": [{"role": "robot", "content": "x"}]}, ["body", "messages", 0, "role"], "literal_error"),
        ({"messages": [{"role": "user", "content": 5}]}, ["body", "messages", 0, "content"], "string_type"),
        ({"messages": ["hi"]}, ["body", "messages", 0], "dict_type"),
        ({"integration": 5}, ["body", "integration"], "invalid"),
        ({"model": None}, ["body", "model"], "null"),
        ({"stream": "yes"}, ["body", "stream"], "invalid"),
        ({"job": 12}, ["body", "job"], "invalid"),
        ({"job": "not-a-uuid"}, ["body", "job"], "invalid"),
        ({"job": str(uuid.uuid4())}, ["body", "job"], "not_found"),
    ],
)
def test_an_invalid_run_is_a_422_with_the_exact_loc(admin_client, integration, enqueued, overrides, loc, kind):
    response = start(admin_client, **overrides)
    assert response.status_code == 422, response.json()
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc, detail
    assert detail[0]["msg"]
    if kind:
        assert detail[0]["type"] == kind
    assert not Run.objects.exists()
    assert not Job.objects.exists()


def test_missing_fields_are_each_named(admin_client):
    response = admin_client.post("/api/v2/runs", {}, format="json")
    assert response.status_code == 422
    assert [p["loc"] for p in response.json()["detail"]] == [
        ["body", "integration"],
        ["body", "model"],
        ["body", "messages"],
    ]
    assert response.json()["detail"][0]["type"] == "required"


def test_a_model_of_another_integration_is_not_in_this_one(admin_client, org, integration):
    make_integration(organization=org, name="second", document=api_key_document(model_properties=[{"name": "m2"}]))
    response = start(admin_client, integration="second")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "model"]
    assert '"m2"' in response.json()["detail"][0]["msg"]


def test_a_run_joins_a_given_job_of_the_organisation(admin_client, org, admin_user, integration, other_org):
    job = job_create(organization=org, user=admin_user, kind=Job.Kind.API)
    response = start(admin_client, job=str(job.pk))
    assert response.status_code == 202
    assert response.json()["job"] == str(job.pk)
    foreign = job_create(organization=other_org, user=None, kind=Job.Kind.API)
    assert start(admin_client, job=str(foreign.pk)).json()["detail"][0]["loc"] == ["body", "job"]


def _finished_run(integration, user, **fields):
    model = integration.models.get(alias="GPT 5.2")
    run = run_enqueue(model=model, user=user, messages=HELLO)
    Run.objects.filter(pk=run.pk).update(**fields)
    return Run.objects.get(pk=run.pk)


def test_a_run_reads_back_with_everything_the_worker_recorded(member_client, integration, creator):
    started = datetime(2026, 1, 2, 3, 4, 5, 0, tzinfo=UTC)  # microsecond 0 must still print as .000000
    run = _finished_run(
        integration,
        creator,
        status=RunStatus.SUCCEEDED,
        output="Hi!",
        finish_reason="stop",
        usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        latency_ms=12.5,
        request={"url": "https://provider.example/v1/chat/completions", "headers": {"x-portkey-api-key": "********"}},
        started_at=started,
        finished_at=started + timedelta(microseconds=250),
    )
    body = member_client.get(f"/api/v2/runs/{run.pk}").json()
    assert body["status"] == "succeeded"
    assert body["output"] == "Hi!"
    assert body["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == 2
    assert body["latency_ms"] == 12.5
    assert body["error"] is None
    assert body["integration"] == "custom"
    assert body["model"] == "GPT 5.2"
    assert body["request"]["headers"] == {"x-portkey-api-key": "********"}
    assert body["started_at"] == "2026-01-02T03:04:05.000000Z"
    assert body["finished_at"] == "2026-01-02T03:04:05.000250Z"
    assert MICROSECONDS.match(body["created_at"])
    assert "sk-test-ABC123" not in str(body)


def test_a_failed_run_has_an_error_object(admin_client, integration, creator):
    run = _finished_run(
        integration, creator, status=RunStatus.FAILED, error_type="provider_error", error_message="HTTP 500"
    )
    body = admin_client.get(f"/api/v2/runs/{run.pk}").json()
    assert body["error"] == {"type": "provider_error", "message": "HTTP 500"}
    assert body["output"] is None


def test_a_running_streamed_run_shows_the_text_so_far(admin_client, integration, creator):
    from django.core.cache import cache

    from runners.live_output import live_output_key

    run = _finished_run(integration, creator, status=RunStatus.RUNNING, stream=True)
    cache.set(live_output_key(run.pk), "Hel", 60)
    try:
        assert admin_client.get(f"/api/v2/runs/{run.pk}").json()["output"] == "Hel"
    finally:
        cache.delete(live_output_key(run.pk))


@pytest.fixture
def many_runs(org, integration, creator, admin_user):
    make_integration(
        organization=org,
        user=admin_user,
        name="other",
        document=api_key_document(model_properties=[{"name": "o1", "alias": "Other 1"}]),
    )
    job = job_create(organization=org, user=creator, kind=Job.Kind.API)
    runs = []
    for index in range(5):
        alias = "GPT 5.2" if index % 2 == 0 else "GPT 5.4"
        model = integration.models.get(alias=alias)
        runs.append(run_enqueue(model=model, user=creator, messages=HELLO, job=job if index < 2 else None))
    other = org.integrations.get(name="other").models.get()
    runs.append(run_enqueue(model=other, user=creator, messages=HELLO))
    Run.objects.filter(pk=runs[0].pk).update(status=RunStatus.SUCCEEDED)
    return {"runs": runs, "job": job}


def ids(response):
    return [r["id"] for r in response.json()["results"]]


def test_the_list_is_newest_first_and_filtered(admin_client, many_runs):
    runs = many_runs["runs"]
    assert ids(admin_client.get("/api/v2/runs")) == [str(r.pk) for r in reversed(runs)]
    assert ids(admin_client.get("/api/v2/runs", {"status": "succeeded"})) == [str(runs[0].pk)]
    assert len(ids(admin_client.get("/api/v2/runs", {"status": "queued"}))) == 5
    assert ids(admin_client.get("/api/v2/runs", {"integration": "other"})) == [str(runs[5].pk)]
    assert len(ids(admin_client.get("/api/v2/runs", {"integration": "custom"}))) == 5
    assert ids(admin_client.get("/api/v2/runs", {"model": "GPT 5.4"})) == [str(runs[3].pk), str(runs[1].pk)]
    by_job = admin_client.get("/api/v2/runs", {"job": str(many_runs["job"].pk)})
    assert ids(by_job) == [str(runs[1].pk), str(runs[0].pk)]
    both = admin_client.get("/api/v2/runs", {"job": str(many_runs["job"].pk), "model": "GPT 5.2"})
    assert ids(both) == [str(runs[0].pk)]


def test_the_list_pages_with_a_cursor(admin_client, many_runs):
    seen = []
    response = admin_client.get("/api/v2/runs", {"limit": 2})
    pages = 0
    while True:
        pages += 1
        assert len(response.json()["results"]) <= 2
        seen += ids(response)
        next_url = response.json()["next"]
        if next_url is None:
            break
        response = admin_client.get(next_url)
    assert pages == 3
    assert seen == [str(r.pk) for r in reversed(many_runs["runs"])]
    previous = response.json()["previous"]
    assert ids(admin_client.get(previous)) == seen[2:4]


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"status": "done"}, ["query", "status"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 201}, ["query", "limit"]),
        ({"limit": "many"}, ["query", "limit"]),
        ({"job": "x"}, ["query", "job"]),
        ({"cursor": "garbage"}, ["query", "cursor"]),
        ({"status": ""}, ["query", "status"]),
        ({"model": ""}, ["query", "model"]),
        ({"cursor": "cD1ub3QtYS1kYXRl"}, ["query", "cursor"]),  # base64 of "p=not-a-date"
    ],
)
def test_bad_list_parameters_are_a_422(admin_client, query, loc):
    response = admin_client.get("/api/v2/runs", query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
