"""The page paths answer input the API rejects (NUL, lone surrogates, over-long values) with a clear error, never a
500 and nothing half-saved (issue 14, item 5): the metric, dataset and evaluation forms, and the Playground's JSON
endpoints (runs, draft)."""

import json

import pytest
from django.test import Client

from evaluations.models import Dataset, Metric
from playground.models import PlaygroundDraft

pytestmark = pytest.mark.django_db

BAD_TEXTS = {"nul": "bad\x00name", "lone surrogate": "bad\ud800name", "over long": "x" * 100_000}
# A form post is bytes a browser encoded as UTF-8: a lone surrogate cannot arrive through one (JSON's \ud800 can).
FORM_CASES = ["nul", "over long"]


@pytest.fixture
def browser_client(admin_user):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


def post_json_text(client, url: str, text: str, method: str = "post"):
    return getattr(client, method)(url, data=text.encode("utf-8", "surrogatepass"), content_type="application/json")


@pytest.mark.parametrize("kind", FORM_CASES)
def test_the_metric_form_refuses_bad_text_clearly(browser_client, kind):
    response = browser_client.post(
        "/evaluations/metrics", {"name": BAD_TEXTS[kind], "prompt": "Score {{output}}", "judges": "1"}
    )

    assert response.status_code in (200, 422)
    assert Metric.objects.count() == 0


@pytest.mark.parametrize("kind", FORM_CASES)
def test_the_dataset_form_refuses_bad_text_clearly(browser_client, kind):
    response = browser_client.post("/evaluations/datasets", {"name": BAD_TEXTS[kind], "text": "q\nhello\n"})

    assert response.status_code in (200, 422)
    assert Dataset.objects.count() == 0


@pytest.mark.parametrize("kind", ["nul", "lone surrogate"])
def test_the_playground_draft_refuses_bad_text_with_the_problem_shape(browser_client, kind):
    body = json.dumps({"messages": [{"role": "user", "content": BAD_TEXTS[kind]}]}, ensure_ascii=True)

    response = post_json_text(browser_client, "/playground/draft", body, method="put")

    assert response.status_code in (400, 422), response.content[:300]
    assert PlaygroundDraft.objects.count() == 0


@pytest.mark.parametrize("kind", ["nul", "lone surrogate"])
def test_playground_runs_refuse_bad_variables_with_the_problem_shape(browser_client, kind):
    body = json.dumps(
        {"messages": [{"role": "user", "content": "{{q}}"}], "variables": {"q": BAD_TEXTS[kind]}, "columns": []},
        ensure_ascii=True,
    )

    response = post_json_text(browser_client, "/playground/runs", body)

    assert response.status_code in (400, 422), response.content[:300]
