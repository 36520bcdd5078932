"""An edit of an integration that renames or removes a model alias breaks what names it (a metric's judge model, saved
prompt versions) as much as a delete does: the document's PUT answers 409 with the dependents (as DELETE does) unless
`?confirm=true`, and the Settings > Integrations edit page lists them and offers "Save anyway"."""

import copy
import json

import pytest

from evaluations.selectors import metrics_judge_missing
from integrations.models import ModelProperty
from integrations.services import IntegrationInUse, integration_document, integration_upsert
from tests.api.conftest import client_for
from tests.evaluations.conftest import logged_in


def renamed(integration, alias="Judge v2") -> dict:
    document = copy.deepcopy(integration_document(integration=integration, reveal_secrets=True))
    document["model_properties"][0]["alias"] = alias  # a rename, as a new user tidies names
    return document


def test_an_edit_that_renames_a_judge_model_says_what_it_would_break(org, admin_user, judge_integration, make_metric):
    metric = make_metric()
    document = renamed(judge_integration)
    response = client_for(admin_user).put(
        f"/api/v2/integrations/custom/{judge_integration.name}", document, format="json"
    )
    assert response.status_code == 409, (response.status_code, str(response.content[:300]))
    body = response.json()
    assert [(item["kind"], item["name"]) for item in body["dependents"]] == [("metric", metric.name)]
    assert "“Judge”" in body["detail"] and "Confirm" in body["detail"]
    assert metrics_judge_missing(organization=org, metrics=[metric]) == set()  # nothing changed
    assert list(ModelProperty.objects.filter(integration=judge_integration).values_list("alias", flat=True)) == [
        "Judge"
    ]


def test_the_api_saves_the_rename_when_confirmed(org, admin_user, judge_integration, make_metric):
    metric = make_metric()
    path = f"/api/v2/integrations/custom/{judge_integration.name}"
    response = client_for(admin_user).put(f"{path}?confirm=maybe", renamed(judge_integration), format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "confirm"]
    response = client_for(admin_user).put(
        f"/api/v2/integrations/custom/{judge_integration.name}?confirm=true", renamed(judge_integration), format="json"
    )
    assert response.status_code == 200, response.content[:300]
    assert metrics_judge_missing(organization=org, metrics=[metric]) == {metric.uuid}


def test_an_edit_that_keeps_the_aliases_in_use_needs_no_confirm(org, admin_user, judge_integration, make_metric):
    make_metric()
    document = copy.deepcopy(integration_document(integration=judge_integration, reveal_secrets=True))
    document["model_properties"].append({"name": "judge-mini", "alias": "Judge mini"})
    integration_upsert(organization=org, user=admin_user, name=judge_integration.name, document=document)
    # Dropping an alias nothing uses is not asked about either.
    document["model_properties"].pop()
    integration_upsert(organization=org, user=admin_user, name=judge_integration.name, document=document)
    with pytest.raises(IntegrationInUse) as caught:
        integration_upsert(
            organization=org, user=admin_user, name=judge_integration.name, document=renamed(judge_integration)
        )
    assert caught.value.dropped == ["Judge"]


def test_the_edit_page_lists_what_breaks_and_saves_when_confirmed(org, admin_user, judge_integration, make_metric):
    metric = make_metric()
    client = logged_in(admin_user)
    url = f"/settings/integrations/custom/{judge_integration.name}/edit"
    page = client.get(url)
    assert page.status_code == 200
    version = page.context["form"].initial["version"]
    form = {"document": json.dumps(renamed(judge_integration)), "version": version}
    response = client.post(url, form)
    assert response.status_code == 422
    html = response.content.decode()
    assert "renames or removes the model “Judge”" in html
    assert f'href="/evaluations/metrics/{metric.uuid}/edit">{metric.name}</a>' in html
    assert 'name="confirm" value="true"' in html
    assert metrics_judge_missing(organization=org, metrics=[metric]) == set()
    response = client.post(url, {**form, "confirm": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert metrics_judge_missing(organization=org, metrics=[metric]) == {metric.uuid}
