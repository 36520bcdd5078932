"""Attack (attack2-s2): the delete guard's reason (metrics and saved prompt versions name models by alias, so losing
an alias silently breaks them) holds as much for an edit of the integration that renames or removes the model: a
PUT of the document without the alias "Judge" answers 200 and the metric judging with it is "Judge model gone",
with no warning. The PUT should refuse as DELETE does (409 with the dependents) unless confirmed."""

import copy

from evaluations.selectors import metrics_judge_missing
from integrations.services import integration_document
from tests.api.conftest import client_for


def test_an_edit_that_renames_a_judge_model_says_what_it_would_break(org, admin_user, judge_integration, make_metric):
    metric = make_metric()
    document = copy.deepcopy(integration_document(integration=judge_integration))
    document["model_properties"][0]["alias"] = "Judge v2"  # a rename, as a new user tidies names
    response = client_for(admin_user).put(
        f"/api/v2/integrations/custom/{judge_integration.name}", document, format="json"
    )
    assert response.status_code == 409, (response.status_code, str(response.content[:300]))
    body = response.json()
    assert [(item["kind"], item["name"]) for item in body["dependents"]] == [("metric", metric.name)]
    assert metrics_judge_missing(organization=org, metrics=[metric]) == set()  # nothing changed
