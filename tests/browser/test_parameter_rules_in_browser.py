"""Settings > Integrations in Chromium: a learned parameter rule is listed with when and why; Pin writes it into the
document, Clear forgets it."""

import re

import pytest
from playwright.sync_api import expect

from integrations.models import ModelProperty, ParameterRule
from integrations.parameter_rules import parameter_rule_learn
from organizations.models import Role
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration

pytestmark = [pytest.mark.browser]


@pytest.fixture
def admin(org):
    return UserFactory(username="ada", organization=org, role=Role.ADMIN)


def learn(integration, parameter, action, to, reason):
    return parameter_rule_learn(
        integration_id=integration.pk,
        model_name="gpt-5.2",
        parameter=parameter,
        action=action,
        to=to,
        reason=reason,
        run_id=None,
    )


def test_pin_and_clear_learned_rules_from_the_integration_list(page, admin, org):
    integration = make_integration(organization=org, user=admin, name="openai", document=api_key_document())
    learn(
        integration,
        "max_tokens",
        "rename",
        "max_completion_tokens",
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    )
    learn(integration, "stream_options", "drop", None, "Unrecognized request argument supplied: stream_options")

    log_in(page, "ada")
    rules = page.get_by_role("region", name="Learned parameter rules")
    expect(rules.get_by_role("row")).to_have_count(3)  # the header and two rules
    expect(rules).to_contain_text("send max_tokens as max_completion_tokens")
    expect(rules).to_contain_text("Use 'max_completion_tokens' instead.")
    expect(rules).to_contain_text("do not send stream_options")
    screenshot(page, "settings-parameter-rules")

    rules.get_by_role("button", name="Pin rule for max_tokens of gpt-5.2").click()
    expect(page.get_by_text("Pinned the rule for “max_tokens” of gpt-5.2 into the document.")).to_be_visible()
    expect(rules.get_by_role("row")).to_have_count(2)
    model = ModelProperty.objects.get(integration=integration, name="gpt-5.2")
    assert model.declared_parameter_names == {"max_tokens": "max_completion_tokens"}

    # A stream_options rule has no document key: pinning says so and keeps it; Clear removes it.
    rules.get_by_role("button", name="Pin rule for stream_options of gpt-5.2").click()
    expect(page.get_by_text(re.compile(r'"stream_options" is not a run parameter'))).to_be_visible()
    rules.get_by_role("button", name="Clear rule for stream_options of gpt-5.2").click()
    expect(page.get_by_text("Cleared the rule for “stream_options” of gpt-5.2.")).to_be_visible()
    expect(rules).to_contain_text("None: every provider took the parameters as the document names them.")
    assert not ParameterRule.objects.exists()

    # The edit page's document now says it.
    page.goto("/settings/integrations/custom/openai/edit")
    expect(page.get_by_label("Integration JSON")).to_have_value(re.compile(r'"parameter_names": \{\s*"max_tokens"'))
