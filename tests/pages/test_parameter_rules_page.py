"""Settings > Integrations lists each integration's learned parameter rules; admins and the creator clear or pin."""

from html import unescape

import pytest

from integrations.models import ModelProperty, ParameterRule
from integrations.parameter_rules import parameter_rule_learn
from tests.pages.conftest import PLANTED_KEY

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/integrations"


def learn(integration, parameter, action, to=None, reason="Unsupported parameter: 'max_tokens'") -> ParameterRule:
    return parameter_rule_learn(
        integration_id=integration.pk,
        model_name="gpt-5.2",
        parameter=parameter,
        action=action,
        to=to,
        reason=reason,
        run_id=None,
    )


def rule_url(integration, rule, verb) -> str:
    return f"/settings/integrations/custom/{integration.name}/parameter-rules/{rule.uuid}/{verb}"


def page(client, url=SETTINGS) -> str:
    return unescape(client.get(url).content.decode())


def test_the_settings_list_shows_each_rule_with_when_and_why(member_client, integration):
    learn(integration, "max_tokens", "rename", "max_completion_tokens")

    text = page(member_client)

    assert "Learned parameter rules" in text
    assert "send <code>max_tokens</code> as <code>max_completion_tokens</code>" in text
    assert "Unsupported parameter: 'max_tokens'" in text
    assert "ago</time>" in text
    # A member who did not create it sees the rule, not the buttons.
    assert "/parameter-rules/" not in text


def test_an_integration_without_rules_says_so(member_client, integration):
    assert "None: every provider took the parameters as the document names them." in page(member_client)


def test_the_admin_pins_a_rename_from_the_list(admin_client, integration):
    rule = learn(integration, "max_tokens", "rename", "max_completion_tokens")
    assert rule_url(integration, rule, "pin") in page(admin_client)

    response = admin_client.post(rule_url(integration, rule, "pin"))

    assert response.status_code == 302 and response["Location"] == f"{SETTINGS}#integration-custom"
    model = ModelProperty.objects.get(integration=integration, name="gpt-5.2")
    assert model.declared_parameter_names == {"max_tokens": "max_completion_tokens"}
    assert not ParameterRule.objects.exists()
    text = page(admin_client)
    assert "Pinned the rule for “max_tokens” of gpt-5.2 into the document." in text
    assert PLANTED_KEY not in text
    # The edit page's JSON now carries it.
    assert '"parameter_names": {' in page(admin_client, "/settings/integrations/custom/custom/edit")


def test_the_admin_clears_a_rule(admin_client, integration):
    rule = learn(integration, "seed", "drop")

    response = admin_client.post(rule_url(integration, rule, "clear"), follow=True)

    assert not ParameterRule.objects.exists()
    assert "Cleared the rule for “seed” of gpt-5.2." in unescape(response.content.decode())


def test_a_rule_that_cannot_be_pinned_says_why_and_stays(admin_client, integration):
    rule = learn(integration, "stream_options", "drop", reason="Unrecognized request argument supplied: stream_options")

    response = admin_client.post(rule_url(integration, rule, "pin"), follow=True)

    assert '"stream_options" is not a run parameter' in unescape(response.content.decode())
    assert ParameterRule.objects.filter(pk=rule.pk).exists()


def test_a_member_may_not_clear_or_pin(member_client, integration):
    rule = learn(integration, "seed", "drop")

    assert member_client.post(rule_url(integration, rule, "clear")).status_code == 403
    assert member_client.post(rule_url(integration, rule, "pin")).status_code == 403
    assert member_client.get(rule_url(integration, rule, "clear")).status_code == 405
    assert ParameterRule.objects.filter(pk=rule.pk).exists()


def test_another_organisations_rule_is_not_found(admin_client, other_integration):
    rule = parameter_rule_learn(
        integration_id=other_integration.pk,
        model_name="their-model",
        parameter="seed",
        action="drop",
        to=None,
        reason="",
        run_id=None,
    )

    url = f"/settings/integrations/custom/theirs/parameter-rules/{rule.uuid}/clear"
    assert admin_client.post(url).status_code == 404
    assert ParameterRule.objects.filter(pk=rule.pk).exists()


def test_the_edit_page_lists_the_rules_with_their_buttons(admin_client, integration):
    rule = learn(integration, "seed", "drop")

    text = page(admin_client, "/settings/integrations/custom/custom/edit")

    assert "do not send <code>seed</code>" in text
    assert rule_url(integration, rule, "clear") in text
