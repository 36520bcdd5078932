"""GET /api/v2/integrations/{id}/parameter-rules, DELETE .../{rule id}, POST .../{rule id}/pin."""

import re
import uuid

import pytest

from integrations.models import ParameterRule
from integrations.parameter_rules import parameter_rule_learn
from integrations.services import integration_version

MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture
def rename(integration):
    return parameter_rule_learn(
        integration_id=integration.pk,
        model_name="gpt-5.2",
        parameter="max_tokens",
        action="rename",
        to="max_completion_tokens",
        reason="Unsupported parameter: 'max_tokens' is not supported with this model.",
        run_id=str(uuid.UUID(int=7)),
    )


def rules_url(integration) -> str:
    return f"/api/v2/integrations/{integration.uuid}/parameter-rules"


def test_members_list_the_rules_with_when_and_why(member_client, integration, rename):
    response = member_client.get(rules_url(integration))

    assert response.status_code == 200
    (rule,) = response.json()
    assert rule == {
        "id": str(rename.uuid),
        "model": "gpt-5.2",
        "parameter": "max_tokens",
        "action": "rename",
        "to": "max_completion_tokens",
        "reason": "Unsupported parameter: 'max_tokens' is not supported with this model.",
        "learned_at": rule["learned_at"],
        "learned_from_run": str(uuid.UUID(int=7)),
    }
    assert MICROSECONDS.match(rule["learned_at"])


def test_the_creator_pins_a_rule_into_the_document(creator_client, integration, rename):
    before = integration_version(integration=integration)

    response = creator_client.post(f"{rules_url(integration)}/{rename.uuid}/pin")

    assert response.status_code == 200, response.json()
    model = response.json()["document"]["model_properties"][0]
    assert model["parameter_names"] == {"max_tokens": "max_completion_tokens"}
    assert response.json()["document"]["api_key_value"] == "********"
    assert creator_client.get(rules_url(integration)).json() == []
    etag = creator_client.get("/api/v2/integrations/custom/custom")["ETag"]
    assert etag != f'"{before}"'


def test_an_admin_clears_a_rule(admin_client, integration, rename):
    response = admin_client.delete(f"{rules_url(integration)}/{rename.uuid}")

    assert response.status_code == 204
    assert not ParameterRule.objects.exists()


def test_a_member_who_did_not_create_the_integration_may_not_clear_or_pin(member_client, integration, rename):
    assert member_client.delete(f"{rules_url(integration)}/{rename.uuid}").status_code == 403
    assert member_client.post(f"{rules_url(integration)}/{rename.uuid}/pin").status_code == 403
    assert ParameterRule.objects.filter(pk=rename.pk).exists()


def test_another_organisation_sees_nothing(other_client, integration, rename):
    assert other_client.get(rules_url(integration)).status_code == 404
    assert other_client.delete(f"{rules_url(integration)}/{rename.uuid}").status_code == 404
    assert ParameterRule.objects.filter(pk=rename.pk).exists()


def test_an_unknown_rule_is_a_404(admin_client, integration):
    assert admin_client.delete(f"{rules_url(integration)}/{uuid.uuid4()}").status_code == 404
    assert admin_client.post(f"{rules_url(integration)}/{uuid.uuid4()}/pin").status_code == 404


def test_a_stream_options_rule_cannot_be_pinned(admin_client, integration):
    rule = parameter_rule_learn(
        integration_id=integration.pk,
        model_name="gpt-5.2",
        parameter="stream_options",
        action="drop",
        to=None,
        reason="Unrecognized request argument supplied: stream_options",
        run_id=None,
    )

    response = admin_client.post(f"{rules_url(integration)}/{rule.uuid}/pin")

    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["path", "rule"], "not_pinnable")
    assert ParameterRule.objects.filter(pk=rule.pk).exists()
