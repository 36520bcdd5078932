"""The evaluations API: datasets, metrics, evaluations, progress, cancel, results and CSV; permissions and isolation."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from evaluations.models import Dataset, Evaluation
from integrations.models import ModelProperty
from organizations.models import Role
from runners.models import Run
from runners.services import run_enqueue
from tests.api.conftest import client_for
from tests.evaluations.conftest import csv_text
from tests.factories import UserFactory


@pytest.fixture
def admin_api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def member_api(member_user):
    return client_for(member_user)


@pytest.fixture
def other_api(other_admin):
    return client_for(other_admin)


def create_dataset(client, text=None, name="Sums"):
    return client.post(
        "/api/v2/datasets", {"name": name, "format": "csv", "content": text or csv_text(3)}, format="json"
    )


def create_evaluation(client, dataset_id, **overrides):
    body = {
        "name": "API run",
        "dataset": dataset_id,
        "messages": [{"role": "user", "content": "{{question}}"}],
        "models": [{"model": "model-a", "parameters": {"temperature": 0}}, {"model": "model-b"}],
    }
    body.update(overrides)
    return client.post("/api/v2/evaluations", body, format="json")


def test_dataset_create_get_list(member_api):
    response = create_dataset(member_api)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["columns"], body["row_count"], body["format"]) == (["question", "expected"], 3, "csv")
    assert body["preview"][0] == {"index": 1, "values": {"question": "What is 1 plus 1?", "expected": "2"}}
    assert response["Location"] == f"/api/v2/datasets/{body['id']}"
    assert member_api.get(f"/api/v2/datasets/{body['id']}").json()["name"] == "Sums"
    assert [d["id"] for d in member_api.get("/api/v2/datasets").json()] == [body["id"]]


def test_dataset_upload_as_multipart_file(member_api):
    upload = io.BytesIO(b'{"q": "A"}\n{"q": "B"}\n')
    upload.name = "rows.jsonl"
    response = member_api.post("/api/v2/datasets", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert (response.json()["name"], response.json()["format"], response.json()["row_count"]) == (
        "rows.jsonl",
        "jsonl",
        2,
    )


def test_dataset_errors_are_422_with_row_and_column(member_api):
    response = create_dataset(member_api, text="question,expected\nA,1\nB,\0\n")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "content"],
                "msg": "Must not contain NUL characters or unpaired surrogates.",
                "type": "string_unicode",
            }
        ]
    }
    response = create_dataset(member_api, text="question,expected\nA,1\nB,2,3\n")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "rows", 2],
                "msg": "row 2 (line 3): has 3 values but the header has 2 columns.",
                "type": "column_count",
            }
        ]
    }
    response = member_api.post("/api/v2/datasets", {"format": "jsonl", "content": '{"q": 1}\n{"q": 2\n'}, format="json")
    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["body", "name"], ["body", "rows", 2]]
    assert not Dataset.objects.exists()


def test_only_admins_and_the_creator_delete_a_dataset(org, member_api, admin_api, member_user):
    someone = client_for(UserFactory(username="sam", organization=org, role=Role.MEMBER))
    dataset_id = create_dataset(member_api).json()["id"]
    assert someone.delete(f"/api/v2/datasets/{dataset_id}").status_code == 403
    assert member_api.delete(f"/api/v2/datasets/{dataset_id}").status_code == 204
    dataset_id = create_dataset(member_api).json()["id"]
    assert admin_api.delete(f"/api/v2/datasets/{dataset_id}").status_code == 204


def test_a_dataset_in_use_is_not_deleted(admin_api, provider):
    dataset_id = create_dataset(admin_api).json()["id"]
    assert create_evaluation(admin_api, dataset_id).status_code == 202
    response = admin_api.delete(f"/api/v2/datasets/{dataset_id}")
    assert response.status_code == 409
    assert "used by 1 evaluation" in response.json()["detail"]


def test_metrics_create_and_list(member_api, judge_integration):
    response = member_api.post(
        "/api/v2/metrics",
        {
            "name": "Correct",
            "judge_model": "Judge",
            "judges": 3,
            "prompt": "Rate {{output}}",
            "parameters": {"temperature": 0},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["judges"] == 3
    assert [m["name"] for m in member_api.get("/api/v2/metrics").json()] == ["Correct"]
    response = member_api.post("/api/v2/metrics", {"name": "Bad", "judge_model": "nope", "prompt": "x"}, format="json")
    assert response.status_code == 422
    assert [p["loc"] for p in response.json()["detail"]] == [["body", "judge_model"], ["body", "prompt"]]


def test_member_runs_an_evaluation_and_reads_progress_and_results(member_api, provider):
    dataset_id = create_dataset(member_api).json()["id"]
    response = create_evaluation(member_api, dataset_id)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["total_runs"] == 6 and body["status"] == "running"
    assert body["models"] == [
        {"alias": "model-a", "parameters": {"temperature": 0}},
        {"alias": "model-b", "parameters": {}},
    ]
    progress = member_api.get(f"/api/v2/evaluations/{body['id']}").json()["progress"]
    assert (progress["total"], progress["queued"], progress["done"]) == (6, 6, 0)
    results = member_api.get(f"/api/v2/evaluations/{body['id']}/results?sort=-latency:0").json()
    assert results["sort"] == "-latency:0"
    assert results["models"] == ["model-a", "model-b"]
    assert results["rows"][0]["results"]["model-a"]["status"] == "queued"
    assert [a["model"] for a in results["aggregates"]] == ["model-a", "model-b"]
    assert [e["id"] for e in member_api.get("/api/v2/evaluations").json()] == [body["id"]]


def test_a_missing_variable_is_a_422_and_nothing_is_enqueued(member_api, provider):
    dataset_id = create_dataset(member_api).json()["id"]
    response = create_evaluation(member_api, dataset_id, messages=[{"role": "user", "content": "{{context}}"}])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "messages"]
    response = create_evaluation(member_api, dataset_id, models=[{"model": "model-a", "parameters": {"temprature": 1}}])
    assert response.json()["detail"][0]["loc"] == ["body", "models", 0, "parameters", "temprature"]
    assert not Run.objects.exists() and not Evaluation.objects.exists()


def test_cancel_is_for_admins_and_the_creator(org, member_api, admin_api, provider):
    someone = client_for(UserFactory(username="sam", organization=org, role=Role.MEMBER))
    dataset_id = create_dataset(member_api).json()["id"]
    evaluation_id = create_evaluation(member_api, dataset_id).json()["id"]
    assert someone.post(f"/api/v2/evaluations/{evaluation_id}/cancel").status_code == 403
    response = member_api.post(f"/api/v2/evaluations/{evaluation_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["progress"]["cancelled"] == 6
    assert Run.objects.filter(status="failed", error_type="cancelled").count() == 6


def test_results_csv(member_api, provider):
    dataset_id = create_dataset(member_api, text='question,expected\n"=HYPERLINK(""http://x"")",+1\n').json()["id"]
    evaluation_id = create_evaluation(member_api, dataset_id).json()["id"]
    Run.objects.filter(model_alias="model-a").update(status="succeeded", output="@SUM(A1)", latency_ms=12.5)
    response = member_api.get(f"/api/v2/evaluations/{evaluation_id}/results.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="evaluation-{evaluation_id}.csv"'
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff"), "Excel reads a CSV as UTF-8 only with a byte order mark"
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][:9] == [
        "row",
        "question",
        "expected",
        "model",
        "status",
        "output",
        "error",
        "latency_ms",
        "prompt_tokens",
    ]
    assert rows[1][:8] == ["1", '\'=HYPERLINK("http://x")', "'+1", "model-a", "succeeded", "'@SUM(A1)", "", "12.5"]
    assert rows[2][3:5] == ["model-b", "queued"]


def test_another_organisation_gets_404_everywhere(member_api, other_api, provider, judge_integration):
    dataset_id = create_dataset(member_api).json()["id"]
    evaluation_id = create_evaluation(member_api, dataset_id).json()["id"]
    metric_id = member_api.post(
        "/api/v2/metrics", {"name": "M", "judge_model": "Judge", "prompt": "{{output}}"}, format="json"
    ).json()["id"]
    for path in (
        f"/api/v2/datasets/{dataset_id}",
        f"/api/v2/metrics/{metric_id}",
        f"/api/v2/evaluations/{evaluation_id}",
        f"/api/v2/evaluations/{evaluation_id}/results",
        f"/api/v2/evaluations/{evaluation_id}/results.csv",
    ):
        assert other_api.get(path).status_code == 404, path
    assert other_api.delete(f"/api/v2/datasets/{dataset_id}").status_code == 404
    assert other_api.post(f"/api/v2/evaluations/{evaluation_id}/cancel").status_code == 404
    assert other_api.get("/api/v2/evaluations").json() == []
    assert other_api.get("/api/v2/datasets").json() == []
    # Their dataset id cannot be used in our evaluation either.
    response = create_evaluation(other_api, dataset_id)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "dataset"]


def test_no_key_is_401():
    assert APIClient().get("/api/v2/evaluations").status_code == 401
    assert APIClient().get("/api/v2/datasets").status_code == 401


def test_metric_scores_of_runs_from_another_organisation_are_not_found(
    member_api, other_api, provider, judge_integration
):

    run = run_enqueue(
        model=ModelProperty.objects.get(alias="model-a"), user=None, messages=[{"role": "user", "content": "hi"}]
    )
    Run.objects.filter(pk=run.pk).update(status="succeeded", output="hello")
    metric_id = member_api.post(
        "/api/v2/metrics", {"name": "M", "judge_model": "Judge", "prompt": "{{output}}", "judges": 2}, format="json"
    ).json()["id"]
    response = member_api.post(f"/api/v2/metrics/{metric_id}/scores", {"runs": [str(run.pk)]}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json() == [
        {
            "run": str(run.pk),
            "metric": metric_id,
            "metric_name": "M",
            "status": "pending",
            "mean": None,
            "judgements": [],
            "error": None,
        }
    ]
    assert member_api.get(f"/api/v2/metrics/{metric_id}/scores?run={run.pk}").json()[0]["status"] == "pending"
    assert Run.objects.filter(job__kind="evaluation").count() == 2
    assert (
        other_api.post(f"/api/v2/metrics/{metric_id}/scores", {"runs": [str(run.pk)]}, format="json").status_code == 404
    )
    response = member_api.post(f"/api/v2/metrics/{metric_id}/scores", {"runs": ["not-a-uuid"]}, format="json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "runs", 0]


def test_a_large_dataset_fits_in_one_json_body(member_api):
    text = "question\n" + "".join(f"{n} {'x' * 600}\n" for n in range(5000))
    assert len(text) > 3_000_000
    response = create_dataset(member_api, text=text)
    assert response.status_code == 201, response.json()
    assert response.json()["row_count"] == 5000
