"""Evaluations take their messages from a saved prompt version: the evaluation and every run record it, its
parameters apply under each model's own, and the prompt cannot be deleted while the evaluation exists."""

import pytest
from django.test import Client

from evaluations.models import Evaluation
from evaluations.services.datasets import dataset_create
from prompts.services import PromptInUse, prompt_create, prompt_delete
from runners.models import Run
from tests.api.conftest import client_for
from tests.evaluations.conftest import csv_text
from tests.evaluations.test_api import create_dataset, create_evaluation

TEMPLATE = [{"role": "system", "content": "Answer with a number."}, {"role": "user", "content": "{{question}}"}]


@pytest.fixture
def member_api(member_user):
    return client_for(member_user)


@pytest.fixture
def version(org, member_user, provider):
    prompt = prompt_create(
        organization=org,
        user=member_user,
        name="sums",
        messages=TEMPLATE,
        parameters={"temperature": 0.5, "max_tokens": 20},
    )
    return prompt.versions.get()


def test_an_evaluation_from_a_prompt_version_records_it_on_every_run(member_api, version):
    dataset_id = create_dataset(member_api).json()["id"]
    response = create_evaluation(
        member_api,
        dataset_id,
        messages=None,
        prompt_version=str(version.pk),
        models=[{"model": "model-a", "parameters": {"temperature": 0}}, {"model": "model-b"}],
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["prompt_version"] == str(version.pk)
    assert body["messages"] == TEMPLATE
    evaluation = Evaluation.objects.get()
    runs = Run.objects.filter(job=evaluation.job)
    assert runs.count() == 6
    assert {run.prompt_version_id for run in runs} == {version.pk}
    # The version's parameters, with each model's own on top.
    assert {run.model_alias: run.parameters for run in runs} == {
        "model-a": {"temperature": 0, "max_tokens": 20},
        "model-b": {"temperature": 0.5, "max_tokens": 20},
    }
    first = runs.filter(model_alias="model-a").order_by("evaluation_result__row__index").first()
    assert first.messages[0] == TEMPLATE[0] and first.messages[1]["role"] == "user"
    assert "{{" not in first.messages[1]["content"]
    with pytest.raises(PromptInUse):
        prompt_delete(prompt=version.prompt)


def test_messages_and_a_prompt_version_together_are_a_422(member_api, version):
    dataset_id = create_dataset(member_api).json()["id"]
    response = create_evaluation(member_api, dataset_id, prompt_version=str(version.pk))
    assert response.status_code == 422
    assert [p["loc"] for p in response.json()["detail"]] == [["body", "messages"]]
    assert not Evaluation.objects.exists()


def test_an_unknown_or_foreign_version_is_a_422(member_api, version, other_org, other_admin):
    theirs = prompt_create(organization=other_org, user=other_admin, name="x", messages=TEMPLATE).versions.get()
    dataset_id = create_dataset(member_api).json()["id"]
    for value in (str(theirs.pk), "6f1c1d1e-0000-4000-8000-000000000000"):
        response = create_evaluation(member_api, dataset_id, messages=None, prompt_version=value)
        assert response.status_code == 422
        assert [p["loc"] for p in response.json()["detail"]] == [["body", "prompt_version"]]
    assert not Run.objects.exists()


def test_the_evaluation_form_offers_saved_prompt_versions(org, member_user, version):
    dataset = dataset_create(organization=org, user=member_user, name="Sums", text=csv_text(2), format="csv")
    client = Client()
    client.force_login(member_user)
    page = client.get("/evaluations/new").content.decode()
    assert f'<option value="{version.pk}">sums · v1</option>' in page
    response = client.post(
        "/evaluations/new",
        {"dataset": dataset.uuid, "prompt_version": str(version.pk), "models": ["model-a"], "system": "", "prompt": ""},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    evaluation = Evaluation.objects.get()
    assert (evaluation.prompt_version, evaluation.messages) == (version, TEMPLATE)
    # Both a saved prompt and a written one: the form says to pick one.
    response = client.post(
        "/evaluations/new",
        {"dataset": dataset.uuid, "prompt_version": str(version.pk), "models": ["model-a"], "prompt": "{{question}}"},
    )
    assert response.status_code == 422
    assert "Pick a saved prompt or write one, not both." in response.content.decode()
