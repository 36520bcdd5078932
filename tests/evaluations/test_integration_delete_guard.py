"""Deleting an integration lists the metrics and saved prompts its models serve and asks first (service, API, page)."""

import pytest

from evaluations.models import Metric
from integrations.dependents import integration_dependents
from integrations.models import Integration
from integrations.services import IntegrationInUse, integration_delete
from prompts.services import prompt_create, prompt_version_add
from tests.api.conftest import client_for
from tests.evaluations.conftest import logged_in

MESSAGES = [{"role": "user", "content": "Hello"}]


@pytest.fixture
def integrations(provider, judge_integration):
    return provider, judge_integration


@pytest.fixture
def users_of_judges(org, admin_user, integrations, make_metric):
    """A metric judged by "Judge", and a saved prompt with v1 and v3 written for it (v2 for model-a)."""
    metric = make_metric(name="Correctness")
    Metric.objects.filter(pk=make_metric(name="Unrelated").pk).update(judge_model="model-a")
    prompt = prompt_create(organization=org, user=admin_user, name="Support bot", messages=MESSAGES, model="Judge")
    prompt_version_add(prompt=prompt, user=admin_user, messages=MESSAGES, model="model-a")
    prompt_version_add(prompt=prompt, user=admin_user, messages=MESSAGES, model="Judge")
    return metric, prompt


def test_dependents_name_the_metrics_and_prompt_versions_its_models_serve(integrations, users_of_judges):
    metric, prompt = users_of_judges
    dependents = integration_dependents(integration=integrations[1])
    assert [(item.kind, item.name, item.detail) for item in dependents] == [
        ("metric", "Correctness", 'judge model "Judge"'),
        ("prompt", "Support bot", 'v1 on "Judge", v3 on "Judge"'),
    ]
    assert dependents[0].url == f"/evaluations/metrics/{metric.uuid}/edit"
    assert dependents[1].id == str(prompt.pk)


def test_delete_without_confirm_refuses_and_deletes_nothing(integrations, users_of_judges):
    judges = integrations[1]
    with pytest.raises(IntegrationInUse) as caught:
        integration_delete(integration=judges)
    assert "metric “Correctness” and saved prompt “Support bot”" in str(caught.value)
    assert Integration.objects.filter(pk=judges.pk).exists()
    integration_delete(integration=judges, confirm=True)
    assert not Integration.objects.filter(pk=judges.pk).exists()


def test_an_integration_nothing_uses_is_deleted_at_once(integrations, users_of_judges):
    provider = integrations[0]
    # model-a serves the "Unrelated" metric and prompt v2 of "Support bot".
    assert {item.name for item in integration_dependents(integration=provider)} == {"Unrelated", "Support bot"}
    judges = integrations[1]
    integration_delete(integration=judges, confirm=True)
    provider.refresh_from_db()
    users_of_judges[1].delete()
    Metric.objects.filter(judge_model="model-a").delete()
    assert integration_dependents(integration=provider) == []
    integration_delete(integration=provider)  # nothing to confirm
    assert not Integration.objects.exists()


def test_api_delete_answers_409_with_the_list_until_confirmed(admin_user, integrations, users_of_judges):
    api = client_for(admin_user)
    response = api.delete("/api/v2/integrations/custom/judges")
    assert response.status_code == 409
    body = response.json()
    assert [(item["kind"], item["name"]) for item in body["dependents"]] == [
        ("metric", "Correctness"),
        ("prompt", "Support bot"),
    ]
    assert "Confirm" in body["detail"]
    assert api.get("/api/v2/integrations/custom/judges").status_code == 200
    assert api.delete("/api/v2/integrations/custom/judges?confirm=true").status_code == 204
    assert api.get("/api/v2/integrations/custom/judges").status_code == 404
    # The metric now shows its judge model gone.
    (metric,) = [m for m in api.get("/api/v2/metrics").json() if m["name"] == "Correctness"]
    assert metric["judge_model_missing"] is True


def test_page_lists_what_breaks_and_its_button_confirms(admin_user, integrations, users_of_judges):
    client = logged_in(admin_user)
    page = client.get("/settings/integrations/custom/judges/delete")
    html = page.content.decode()
    assert "This breaks 2 things that use these models" in html
    assert "Correctness" in html and "Support bot" in html and "v1 on &quot;Judge&quot;" in html
    refused = client.post("/settings/integrations/custom/judges/delete")  # no confirm: another client's POST
    assert refused.status_code == 409 and Integration.objects.filter(name="judges").exists()
    done = client.post("/settings/integrations/custom/judges/delete", {"confirm": "true"})
    assert done.status_code == 302 and not Integration.objects.filter(name="judges").exists()
