"""Attack (attack2-s2): PATCH /api/v2/metrics/{id} drops what its serializer does not know and answers 200 with the
same version, so an edit that cannot happen looks done. `kind` is documented as fixed and metric_update refuses it
(Invalid at ("kind",), "read_only"), but the view never passes it on; a misspelt field ("judge_modle") is an edit
silently lost."""

import pytest

from evaluations.models import Metric
from tests.api.conftest import client_for


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"kind": "code"}, ["body", "kind"]),
        ({"judge_modle": "model-a"}, ["body", "judge_modle"]),
    ],
)
def test_a_patch_with_a_field_it_cannot_apply_is_a_422_not_a_silent_200(
    admin_user, provider, judge_integration, make_metric, body, loc
):
    metric = make_metric()
    response = client_for(admin_user).patch(f"/api/v2/metrics/{metric.uuid}", body, format="json")
    assert response.status_code == 422, (response.status_code, response.json())
    assert [problem["loc"] for problem in response.json()["detail"]] == [loc]
    assert Metric.objects.count() == 1


def test_unknown_keys_are_listed_with_the_fields_problems_and_a_known_patch_still_works(
    admin_user, provider, judge_integration, make_metric
):
    metric = make_metric()
    client = client_for(admin_user)
    response = client.patch(f"/api/v2/metrics/{metric.uuid}", {"judges": "many", "colour": "red"}, format="json")
    assert response.status_code == 422
    problems = {tuple(problem["loc"]): problem for problem in response.json()["detail"]}
    assert set(problems) == {("body", "judges"), ("body", "colour")}
    assert problems[("body", "colour")]["type"] == "extra_forbidden"
    assert "judge_model" in problems[("body", "colour")]["msg"]  # it names the fields there are
    assert client.patch(f"/api/v2/metrics/{metric.uuid}", {"kind": "llm_judge"}, format="json").status_code == 422

    edited = client.patch(f"/api/v2/metrics/{metric.uuid}", {"judges": 3}, format="json")
    assert edited.status_code == 200 and edited.json()["version"] == 2
